"""The HTTP benchmark's CRUD baseline does the work it is compared for.

A ratio against a baseline that skips work (no auth, no durable write, lost
posts under concurrency) would flatter Chronicle; these specify that it
doesn't.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from starlette.applications import Starlette

from bench.crud_app import POSTS, create_app

REGISTER = """mutation($input: RegisterInput!) { register(input: $input) { token user { id } } }"""
CREATE_POST = """mutation($input: CreatePostInput!) {
  createPost(input: $input) { post { id title tags author { username } } }
}"""
FEED = """{ posts(first: 20) {
  edges { node { title author { username displayName } commentCount likeCount } }
} }"""


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crud.db"


@pytest.fixture
async def app(db_path: Path) -> AsyncIterator[Starlette]:
    app = create_app(str(db_path))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://crud") as http:
        yield http


async def graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
                  token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                               headers=headers)
    assert answer.status_code == 200
    payload: dict[str, Any] = answer.json()
    return payload


async def register(client: httpx.AsyncClient, username: str) -> str:
    payload = await graphql(client, REGISTER, {"input": {
        "username": username, "email": f"{username}@example.org", "password": "a long password",
    }})
    assert "errors" not in payload
    return str(payload["data"]["register"]["token"])


def post(title: str, publish: bool = True) -> dict[str, Any]:
    return {"input": {"title": title, "body": "body", "tags": ["News"], "publish": publish}}


async def test_creating_a_post_needs_a_valid_bearer_token(client: httpx.AsyncClient) -> None:
    anonymous = await graphql(client, CREATE_POST, post("hello"))
    forged = await graphql(client, CREATE_POST, post("hello"), token="not.a.token")

    assert anonymous["errors"][0]["message"] == "a valid bearer token is required"
    assert forged["errors"][0]["message"] == "a valid bearer token is required"


async def test_a_created_post_is_a_row_of_the_read_models_posts_table(
    client: httpx.AsyncClient, db_path: Path
) -> None:
    token = await register(client, "ada")

    created = await graphql(client, CREATE_POST, post("Hello"), token)

    assert created["data"]["createPost"]["post"]["author"] == {"username": "ada"}
    assert created["data"]["createPost"]["post"]["tags"] == ["news"]
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:
        row = conn.execute(select(POSTS)).one()
    engine.dispose()
    assert (row.title, row.status, row.comment_count, row.like_count) == (
        "Hello", "PUBLISHED", 0, 0
    )


async def test_writes_are_durable_wal_with_synchronous_full(app: Starlette) -> None:
    async with app.state.services.store.engine.connect() as conn:
        journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
        synchronous = (await conn.execute(text("PRAGMA synchronous"))).scalar()

    assert (journal, synchronous) == ("wal", 2)  # 2 is FULL


async def test_the_feed_lists_published_posts_newest_first_with_author_and_counts(
    client: httpx.AsyncClient,
) -> None:
    token = await register(client, "ada")
    for title, publish in [("first", True), ("draft", False), ("second", True)]:
        await graphql(client, CREATE_POST, post(title, publish), token)

    feed = await graphql(client, FEED)

    nodes = [edge["node"] for edge in feed["data"]["posts"]["edges"]]
    assert [node["title"] for node in nodes] == ["second", "first"]
    assert nodes[0]["author"] == {"username": "ada", "displayName": "ada"}
    assert (nodes[0]["commentCount"], nodes[0]["likeCount"]) == (0, 0)


async def test_concurrent_posts_all_commit_through_the_one_writer(
    client: httpx.AsyncClient,
) -> None:
    tokens = [await register(client, f"member_{i}") for i in range(4)]

    answers = await asyncio.gather(*(
        graphql(client, CREATE_POST, post(f"post {i}"), tokens[i % 4]) for i in range(60)
    ))

    assert [a for a in answers if "errors" in a] == []
    feed = await graphql(client, FEED.replace("first: 20", "first: 100"))
    assert len(feed["data"]["posts"]["edges"]) == 60
