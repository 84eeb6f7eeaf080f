"""An unexpected failure is masked as INTERNAL, and the operator can find it by request id.

This module breaks its own server's database on purpose (a read table goes
missing, as after a botched manual intervention), so it runs a server of its own.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import start_server
from tests.e2e.members import register_sync
from tests.e2e.server import Server


def _tables_like(db: sqlite3.Connection, prefix: str) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?", (prefix + "%",)
        )]
        if tables:
            return tables
        time.sleep(0.1)
    raise AssertionError(f"the projections never created the {prefix} tables")


@contextlib.contextmanager
def _server_without(folder: Path, prefix: str) -> Iterator[Server]:
    """A server whose read tables named ``prefix…`` went missing once it started."""
    server = start_server(folder, {})
    try:
        db = sqlite3.connect(folder / "chronicle.db", timeout=30)
        with db:
            for name in _tables_like(db, prefix):
                db.execute(f'ALTER TABLE "{name}" RENAME TO "gone_{name}"')
        db.close()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _server_without(tmp_path_factory.mktemp("chronicle-broken"), "posts") as server:
        yield server


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


@pytest.fixture(scope="module")
def server_without_comments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Only the comments' read table is gone: posts are written and read, comments are not."""
    with _server_without(tmp_path_factory.mktemp("chronicle-no-comments"), "comments") as server:
        yield server


CREATE_WITH_COMMENTS = """mutation C($input: CreatePostInput!) {
  createPost(input: $input) { position post { id comments(first: 5) { totalCount } } } }"""


def test_a_nested_failure_after_the_commit_says_the_write_was_recorded(
    server_without_comments: Server,
) -> None:
    member = register_sync(server_without_comments, "writer")
    response = httpx.post(
        server_without_comments.graphql_url,
        json={"query": CREATE_WITH_COMMENTS, "variables": {"input": {
            "title": "Recorded", "body": "The write commits; its comments cannot be read.",
            "publish": True}}},
        headers={"Authorization": f"Bearer {member.token}"},
    )
    [error] = response.json()["errors"]
    assert error["path"][0] == "createPost"
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["recorded"] is True
    position = int(error["extensions"]["position"])
    # The post is in the log at that position, and in the read model: not to be sent again.
    head = server_without_comments.post_sync("{ headPosition }")["headPosition"]
    assert int(head) >= position
    found = httpx.post(server_without_comments.graphql_url,
                       json={"query": "{ posts(first: 5) { edges { node { title } } } }"},
                       headers={"X-Min-Position": str(position)}).json()
    assert [e["node"]["title"] for e in found["data"]["posts"]["edges"]] == ["Recorded"]


def test_an_error_before_the_commit_is_not_marked_recorded(server_without_comments: Server) -> None:
    member = register_sync(server_without_comments, "refused")
    response = httpx.post(
        server_without_comments.graphql_url,
        json={"query": CREATE_WITH_COMMENTS,
              "variables": {"input": {"title": "", "body": "no title", "publish": True}}},
        headers={"Authorization": f"Bearer {member.token}"},
    )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "title"}
