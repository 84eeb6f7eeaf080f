"""End-to-end fixtures: a real ``chronicle serve`` on a free port, per module and backend.

Each test module gets one server per backend (SQLite in a fresh data folder;
PostgreSQL in a fresh database), shared by its tests to keep the suite fast:
tests therefore register their own members with unique names.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_database
from tests.e2e.members import Member, promote, register_sync
from tests.e2e.server import Api, Server

# Generous read waits: a loaded CI box must not turn a slow projection into STALE_READ.
# Modules may override any of these with a SERVER_SETTINGS dict (test_stale_reads does).
TEST_SETTINGS = {
    "CHRONICLE_READ_WAIT_TIMEOUT": "15",
    "CHRONICLE_LOGIN_MAX_FAILURES": "3",
    "CHRONICLE_PROJECTION_POLL_INTERVAL": "0.2",
    # argon2id at a test cost: a hundred registrations must not take half a minute
    "CHRONICLE_ARGON2_TIME_COST": "1",
    "CHRONICLE_ARGON2_MEMORY_COST_KIB": "1024",
    # Every module's members register and query from this one address: quotas
    # far above any module's needs (test_quotas sets tight ones of its own).
    "CHRONICLE_COST_BUDGET_PER_MINUTE": "10000000",
    "CHRONICLE_REGISTRATIONS_PER_WINDOW": "100000",
}


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one module's server (pg_url is per test)."""
    with fresh_postgres_database("chronicle_e2e") as url:
        yield url


def start_server(data_dir: Path, extra: dict[str, str]) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {"CHRONICLE_DATA_DIR": str(data_dir), **TEST_SETTINGS, **extra}
    server = Server(env=env, log_path=data_dir / "server.log")
    server.start()
    return server


@contextlib.contextmanager
def scaled_out_pair(folder: Path, redis_url: str, database: str
                    ) -> Iterator[tuple[Server, Server]]:
    """Two servers on one fresh PostgreSQL database and a Redis bus. The first one up
    claims the projections; the second follows them."""
    with fresh_postgres_database(database) as url:
        shared = {
            "CHRONICLE_DATABASE_URL": url, "CHRONICLE_BROADCAST_URL": redis_url,
            "CHRONICLE_SECRET_KEY": uuid.uuid4().hex * 2,
        }
        owner = start_server(folder / "owner", shared)
        other: Server | None = None
        try:
            other = start_server(folder / "other", shared)
            yield owner, other
        finally:
            for server in (owner, other):
                if server is not None:
                    server.stop()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp(f"chronicle-{request.param}")
    extra: dict[str, str] = dict(getattr(request.module, "SERVER_SETTINGS", {}))
    if request.param == "postgres":
        extra |= {
            "CHRONICLE_DATABASE_URL": request.getfixturevalue("pg_database"),
            "CHRONICLE_SECRET_KEY": uuid.uuid4().hex * 2,
        }
    running = start_server(data_dir, extra)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(server: Server) -> Api:
    return Api(server)


@pytest.fixture(scope="module")
def admin(server: Server) -> Member:
    """An admin of this module's server, promoted with ``chronicle promote``."""
    member = register_sync(server)
    promote(server, member.username, member.token)
    return member
