"""Idempotency keys over HTTP: one request per key, caller and operation; payloads obey
the visibility rules of the queries (README "Idempotency keys")."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.members import Member, register
from tests.e2e.posts_api import ARCHIVE, EDIT, create, head
from tests.e2e.server import Api, code_of

ADD = """
mutation A($input: AddCommentInput!) {
  addComment(input: $input) { position comment { id postId body } }
}
"""
CREATE = """
mutation C($input: CreatePostInput!) {
  createPost(input: $input) { position post { id title body status author { id } } }
}
"""


def add_input(post_id: str, body: str, key: str | None) -> dict[str, Any]:
    return {"input": {"postId": post_id, "body": body, "idempotencyKey": key}}


def create_input(title: str, key: str | None, body: str = "My body") -> dict[str, Any]:
    return {"input": {"title": title, "body": body, "idempotencyKey": key}}


async def published(api: Api, author: Member, title: str = "Out there") -> str:
    return str((await create(api, author.token, title, publish=True))["post"]["id"])


async def test_a_comment_key_sent_to_create_post_never_answers_with_anothers_post(
    api: Api,
) -> None:
    # the reproduction of security finding 1, step by step
    a = await register(api)
    b = await register(api)
    x = await published(api, a)
    await api(ADD, add_input(x, "Nice post", "kx-leak"), token=b.token)
    await api(ARCHIVE, {"id": x}, token=a.token)
    await api(EDIT, {"input": {"id": x, "title": "PRIVATE title", "body": "PRIVATE body"}},
              token=a.token)

    response = await api.raw({"query": CREATE,
                              "variables": create_input("B's own post", "kx-leak")},
                             token=b.token)

    assert "PRIVATE" not in response.text
    payload = response.json()["data"]["createPost"]
    assert payload["post"]["id"] != x
    assert payload["post"] | {"id": None} == {
        "id": None, "title": "B's own post", "body": "My body", "status": "DRAFT",
        "author": {"id": b.id},
    }


async def test_a_retried_comment_on_a_post_archived_since_is_recorded_but_not_shown(
    api: Api,
) -> None:
    a = await register(api)
    b = await register(api)
    x = await published(api, a)
    await api(ADD, add_input(x, "Nice post", "c-1"), token=b.token)
    await api(ARCHIVE, {"id": x}, token=a.token)
    before = await head(api)

    error = await api.error(ADD, add_input(x, "Nice post", "c-1"), token=b.token)

    # The first request's write stands: the retry says so, and shows nothing of the
    # post its author has made private since.
    assert code_of(error) == "STALE_READ"
    assert error["extensions"]["recorded"] is True
    assert "Nice post" not in str(error)
    assert await head(api) == before


async def test_a_post_key_reused_for_a_comment_adds_the_comment(api: Api) -> None:
    a = await register(api)
    x = await published(api, a)
    await api(CREATE, create_input("Mine", "k-both"), token=a.token)

    comment = (await api(ADD, add_input(x, "A comment", "k-both"), token=a.token))["addComment"]

    assert comment["comment"]["body"] == "A comment" and comment["comment"]["postId"] == x


async def test_a_key_sent_again_with_other_input_is_bad_user_input(api: Api) -> None:
    a = await register(api)
    x = await published(api, a)
    await api(CREATE, create_input("First", "k-post"), token=a.token)
    await api(ADD, add_input(x, "first", "k-comment"), token=a.token)
    before = await head(api)

    for document, variables in ((CREATE, create_input("Second", "k-post")),
                                (ADD, add_input(x, "second", "k-comment"))):
        error = await api.error(document, variables, token=a.token)
        assert code_of(error) == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == "idempotencyKey"
    assert await head(api) == before


async def test_a_blank_or_overlong_key_is_bad_user_input(api: Api) -> None:
    a = await register(api)
    x = await published(api, a)

    for key in ("", "   ", "k" * 256):
        # the fuzzer's input: an empty body and an empty key once answered INTERNAL
        error = await api.error(ADD, add_input(x, "", key), token=a.token)
        assert (code_of(error), error["extensions"]["field"]) == (
            "BAD_USER_INPUT", "idempotencyKey")
        error = await api.error(CREATE, create_input("T", key), token=a.token)
        assert (code_of(error), error["extensions"]["field"]) == (
            "BAD_USER_INPUT", "idempotencyKey")


async def test_concurrent_retries_with_one_key_write_once_and_answer_alike(api: Api) -> None:
    a = await register(api)
    x = await published(api, a)
    before = await head(api)

    posts, comments = await asyncio.gather(
        asyncio.gather(*(api(CREATE, create_input("Once", "same"), token=a.token)
                         for _ in range(8))),
        asyncio.gather(*(api(ADD, add_input(x, "Once", "same"), token=a.token)
                         for _ in range(8))),
    )

    assert len({(p["createPost"]["post"]["id"], p["createPost"]["position"])
                for p in posts}) == 1
    assert len({(c["addComment"]["comment"]["id"], c["addComment"]["position"])
                for c in comments}) == 1
    assert await head(api) == before + 2  # one PostCreated, one CommentAdded
