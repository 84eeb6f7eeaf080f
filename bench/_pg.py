"""A fresh PostgreSQL database for one benchmark run, dropped afterwards.

The server is 127.0.0.1:5432, user ``postgres`` (trust); the admin DSN used to
create and drop databases can be overridden with ``CHRONICLE_BENCH_PG``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

PG_ADMIN_DSN = os.environ.get("CHRONICLE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_url(name: str, driver: str = "postgresql+asyncpg") -> str:
    """The URL of database ``name``: Chronicle's (SQLAlchemy + asyncpg) by default,
    ``driver="postgresql"`` for a plain libpq/asyncpg DSN."""
    return f"{driver}://postgres@127.0.0.1:5432/{name}"


async def pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_pg_database(prefix: str = "chronicle_bench") -> Iterator[str]:
    """Create an empty database, yield its name, drop it (connections and all) afterwards.

    Called outside any running event loop (it runs its own for each statement)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
