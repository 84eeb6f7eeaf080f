"""An unexpected failure is masked as INTERNAL, and the operator can find it by request id.

This module breaks its own server's database on purpose (a read table goes
missing, as after a botched manual intervention), so it runs a server of its own.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import start_server
from tests.e2e.server import Server


def _posts_tables(db: sqlite3.Connection) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'posts%'"
        )]
        if tables:
            return tables
        time.sleep(0.1)
    raise AssertionError("the posts projection never created its tables")


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("chronicle-broken")
    server = start_server(data_dir, {})
    try:
        db = sqlite3.connect(Path(data_dir) / "chronicle.db", timeout=30)
        tables = _posts_tables(db)
        with db:
            for name in tables:
                db.execute(f'ALTER TABLE "{name}" RENAME TO "gone_{name}"')
        db.close()
        yield server
    finally:
        server.stop()


def test_an_unexpected_failure_is_masked_as_internal(broken_server: Server) -> None:
    response = httpx.post(broken_server.graphql_url,
                          json={"query": "{ posts { totalCount edges { node { id } } } }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL"}
    raw = response.text.lower()
    for leak in ("select", "sqlite", "posts_", "traceback", "operationalerror", ".py"):
        assert leak not in raw


def test_a_masked_failure_is_logged_with_the_request_id(broken_server: Server) -> None:
    response = httpx.post(broken_server.graphql_url,
                          json={"query": "{ posts { totalCount } }"},
                          headers={"X-Request-Id": "find-me-7f3a"})
    assert response.headers["x-request-id"] == "find-me-7f3a"
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in broken_server.log().splitlines() if "find-me-7f3a" in line]
        if any("internal error masked" in line for line in lines):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no log line for the masked error with its request id")
    logged = next(line for line in lines if "internal error masked" in line)
    assert '"level":"error"' in logged
    assert "OperationalError" in logged  # the operator gets the cause the client did not
