"""Alembic environment: migrates over the connection :func:`events.db.migrate` hands in.

Run from the ``alembic`` command line instead (``-x url=…`` or
``sqlalchemy.url``), it opens its own engine.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    from events.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("Chronicle migrations run online only")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database url: pass -x url=… or set sqlalchemy.url")
    asyncio.run(_run_standalone(url))


_main()
