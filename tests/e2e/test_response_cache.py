"""The response cache (chronicle/response_cache.py): exact, shared only when nothing read the
caller, evicted by the tables a batch wrote.

The server runs with ``CHRONICLE_RESPONSE_CACHE_BYPASS=true``, so a request
with ``X-Chronicle-Cache: bypass`` is answered by the executor alone (the
fuzz test compares every cached answer with it at the same position), and
answers from the cache say ``X-Chronicle-Cache: hit``.
"""

from __future__ import annotations

import asyncio
import random
import re
from typing import Any

import httpx
import pytest

from tests.e2e import posts_api
from tests.e2e.members import Member, register
from tests.e2e.server import Api, Server, unique

SERVER_SETTINGS = {"CHRONICLE_RESPONSE_CACHE_BYPASS": "true"}

FEED = """query Feed($first: Int) { posts(first: $first) { edges { node {
  id title likedByMe likeCount commentCount status author { username } } } } }"""
POST = "query P($id: ID!) { post(id: $id) { id title status likedByMe likeCount } }"
ME = "query Me { me { username email } }"
USER = "query U($name: String!) { user(username: $name) { username email displayName } }"
MINE = """query Mine($name: String) { posts(first: 10, authorUsername: $name) {
  edges { node { id title status } } } }"""
COMMENT = """mutation C($input: AddCommentInput!) { addComment(input: $input) { position } }"""
SHARED_FEED = """query Shared($first: Int) { posts(first: $first) { edges { node {
  id title likeCount commentCount author { username displayName } } } } }"""
"""A feed that reads nobody's identity: one entry per visibility class."""
AUTHOR = "query A($name: String!) { user(username: $name) { username displayName postCount } }"
"""Reads the users table only."""
DRAFTS = """query D($status: PostStatus) { posts(first: 10, status: $status) {
  edges { node { id title status } } } }"""


def counter(server: Server, name: str) -> float:
    text = httpx.get(f"{server.base}/metrics", timeout=30).text
    found = re.search(rf"^chronicle_response_cache_{name}_total (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def ask(api: Api, query: str, variables: dict[str, Any] | None = None, *,
              token: str | None = None, **headers: str) -> httpx.Response:
    response = await api.raw({"query": query, "variables": variables or {}}, headers=headers,
                             token=token)
    assert response.status_code in (200, 304), response.text
    return response


def was_hit(response: httpx.Response) -> bool:
    return response.headers.get("x-chronicle-cache") == "hit"


async def heard_through(server: Server, position: int) -> None:
    """Wait until the server's cache heard every projection's notices through ``position``."""
    for _ in range(300):
        if counter_gauge(server, "heard_position") >= position:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the cache never heard the notices through {position}")


def counter_gauge(server: Server, name: str) -> float:
    text = httpx.get(f"{server.base}/metrics", timeout=30).text
    found = re.search(rf"^chronicle_response_cache_{name} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_a_query_asked_again_is_a_hit_until_a_write_evicts_it(
    server: Server, api: Api
) -> None:
    member = await register(api)
    first = await ask(api, FEED, {"first": 3})
    hits = counter(server, "hits")
    again = await ask(api, FEED, {"first": 3})
    assert counter(server, "hits") == hits + 1
    assert again.json()["data"] == first.json()["data"]
    assert again.headers["etag"] == first.headers["etag"]

    created = await posts_api.create(api, member.token, unique("fresh"), publish=True)
    after = (await ask(api, FEED, {"first": 3})).json()["data"]
    assert after["posts"]["edges"][0]["node"]["id"] == created["post"]["id"]
    assert counter(server, "evictions") > 0


async def test_a_read_at_a_position_never_gets_an_older_answer(api: Api) -> None:
    member = await register(api)
    await ask(api, MINE, {"name": member.username})
    for i in range(5):
        created = await posts_api.create(api, member.token, f"post {i}", publish=True)
        seen = await ask(api, MINE, {"name": member.username},
                         **{"X-Min-Position": str(created["position"])})
        titles = [e["node"]["title"] for e in seen.json()["data"]["posts"]["edges"]]
        assert titles[0] == f"post {i}"


async def test_one_members_answer_is_never_served_to_another(api: Api) -> None:
    alice, bob = await register(api, "alice"), await register(api, "bob")
    post = (await posts_api.create(api, alice.token, "Liked", publish=True))["post"]
    await api(posts_api.LIKE, {"id": post["id"]}, token=alice.token)
    for _ in range(2):
        mine = await ask(api, POST, {"id": post["id"]}, token=alice.token)
        theirs = await ask(api, POST, {"id": post["id"]}, token=bob.token)
        nobody = await ask(api, POST, {"id": post["id"]})
        assert mine.json()["data"]["post"]["likedByMe"] is True
        assert theirs.json()["data"]["post"]["likedByMe"] is False
        assert nobody.json()["data"]["post"]["likedByMe"] is False
    for _ in range(2):
        assert (await ask(api, ME, token=alice.token)).json()["data"]["me"]["email"] == alice.email
        assert (await ask(api, ME, token=bob.token)).json()["data"]["me"]["email"] == bob.email
        assert (await ask(api, ME)).json()["data"]["me"] is None


async def test_members_share_the_entry_of_a_document_that_never_reads_who_asks(
    server: Server, api: Api
) -> None:
    alice, bob = await register(api, "alice"), await register(api, "bob")
    made = await posts_api.create(api, alice.token, unique("shared"), publish=True)
    await heard_through(server, int(made["position"]))
    first = await ask(api, SHARED_FEED, {"first": 4}, token=alice.token)
    second = await ask(api, SHARED_FEED, {"first": 4}, token=bob.token)
    assert was_hit(second)
    assert second.json()["data"] == first.json()["data"]
    assert second.headers["etag"] == first.headers["etag"]
    anonymous = await ask(api, SHARED_FEED, {"first": 4})
    assert not was_hit(anonymous)  # another visibility class: an entry of its own
    assert anonymous.json()["data"] == first.json()["data"]


async def test_answers_that_read_who_asks_are_never_served_to_another_member(
    server: Server, api: Api
) -> None:
    alice, bob = await register(api, "alice"), await register(api, "bob")
    liked = (await posts_api.create(api, alice.token, unique("liked"), publish=True))["post"]
    await api(posts_api.LIKE, {"id": liked["id"]}, token=alice.token)
    made = await posts_api.create(api, alice.token, unique("draft"))
    await heard_through(server, int(made["position"]))
    cases: list[tuple[str, dict[str, Any]]] = [
        (FEED, {"first": 5}),  # likedByMe
        (POST, {"id": liked["id"]}),  # likedByMe on one post
        (ME, {}),  # me, email
        (USER, {"name": alice.username}),  # email: its owner's alone
        (DRAFTS, {"status": "DRAFT"}),  # the caller's own drafts
    ]
    for query, variables in cases:
        await ask(api, query, variables, token=alice.token)
        again = await ask(api, query, variables, token=alice.token)
        assert was_hit(again), query  # her own entry
        theirs = await ask(api, query, variables, token=bob.token)
        exact = await ask(api, query, variables, token=bob.token,
                          **{"X-Chronicle-Cache": "bypass"})
        assert not was_hit(theirs), query
        assert theirs.json()["data"] == exact.json()["data"], query
        assert theirs.json()["data"] != again.json()["data"], query


async def test_a_like_evicts_the_feeds_that_count_likes_but_not_what_reads_only_users(
    server: Server, api: Api
) -> None:
    author, fan = await register(api, "author"), await register(api, "fan")
    post = (await posts_api.create(api, author.token, unique("likeable"), publish=True))
    await heard_through(server, int(post["position"]))
    feed = {"first": 3}
    who = {"name": author.username}
    before = await ask(api, SHARED_FEED, feed)
    await ask(api, AUTHOR, who)
    assert was_hit(await ask(api, SHARED_FEED, feed)) and was_hit(await ask(api, AUTHOR, who))

    liked = await api(posts_api.LIKE, {"id": post["post"]["id"]}, token=fan.token)
    await heard_through(server, int(liked["likePost"]["position"]))

    assert was_hit(await ask(api, AUTHOR, who))  # the like wrote no users row
    after = await ask(api, SHARED_FEED, feed)
    assert not was_hit(after)
    counts = {e["node"]["id"]: e["node"]["likeCount"]
              for e in after.json()["data"]["posts"]["edges"]}
    old = {e["node"]["id"]: e["node"]["likeCount"]
           for e in before.json()["data"]["posts"]["edges"]}
    assert counts[post["post"]["id"]] == old[post["post"]["id"]] + 1


async def test_drafts_are_never_served_to_anonymous_callers(api: Api) -> None:
    author = await register(api)
    draft = (await posts_api.create(api, author.token, "Draft"))["post"]
    for _ in range(2):
        own = await ask(api, POST, {"id": draft["id"]}, token=author.token)
        assert own.json()["data"]["post"]["title"] == "Draft"
        assert (await ask(api, POST, {"id": draft["id"]})).json()["data"]["post"] is None


async def test_an_unchanged_answer_is_304_with_its_etag(api: Api) -> None:
    member = await register(api)
    first = await ask(api, MINE, {"name": member.username})
    etag = first.headers["etag"]
    for _ in range(2):  # from the executor (after an eviction) and from the cache alike
        unchanged = await ask(api, MINE, {"name": member.username}, **{"If-None-Match": etag})
        assert unchanged.status_code == 304
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
    await posts_api.create(api, member.token, "changes it", publish=True)
    changed = await ask(api, MINE, {"name": member.username}, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_errors_and_mutations_are_never_cached(server: Server, api: Api) -> None:
    member = await register(api)
    hits = counter(server, "hits")
    for _ in range(3):
        body = (await ask(api, "{ events(first: 1) { edges { node { id } } } }")).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for i in range(2):
        await posts_api.create(api, member.token, "same", key=f"k{i}-{member.id}")
    assert counter(server, "hits") == hits


async def test_the_cached_path_answers_what_the_executor_answers(
    server: Server, api: Api, admin: Member
) -> None:
    """Random reads by several callers (members, an admin, anonymous) of documents that
    read who asks and documents that do not, between random writes, each compared at once
    with the executor's own answer at the same position (the bypass)."""
    rng = random.Random(13)
    members: list[Member] = [await register(api, f"fz{i}") for i in range(4)]
    callers: list[Member | None] = [*members, admin, None]
    posts: list[str] = []
    position = 0

    async def write() -> int:
        author = rng.choice(members)
        if not posts or rng.random() < 0.3:
            made = await posts_api.create(api, author.token, unique("fz"),
                                          publish=rng.random() < 0.7)
            posts.append(made["post"]["id"])
            return int(made["position"])
        post = rng.choice(posts)
        kind = rng.choice(["like", "unlike", "comment", "publish", "archive"])
        if kind == "comment":
            body = await api.raw({"query": COMMENT, "variables": {
                "input": {"postId": post, "body": "fuzz"}}}, token=author.token)
            answer = body.json()
            return int(answer["data"]["addComment"]["position"]) if answer.get("data") else 0
        document = {"like": posts_api.LIKE, "unlike": posts_api.UNLIKE,
                    "publish": posts_api.PUBLISH, "archive": posts_api.ARCHIVE}[kind]
        answer = (await api.raw({"query": document, "variables": {"id": post}},
                                token=author.token)).json()
        payload = (answer.get("data") or {}) or {}
        return max((int(p["position"]) for p in payload.values() if p), default=0)

    def read() -> tuple[str, dict[str, Any]]:
        choice = rng.randrange(8)
        if choice == 0 or not posts:
            return FEED, {"first": rng.choice([3, 5])}
        if choice == 1:
            return POST, {"id": rng.choice(posts)}
        if choice == 2:
            return ME, {}
        if choice == 3:
            return USER, {"name": rng.choice(members).username}
        if choice == 4:
            return SHARED_FEED, {"first": rng.choice([3, 5])}
        if choice == 5:
            return AUTHOR, {"name": rng.choice(members).username}
        if choice == 6:
            return DRAFTS, {"status": rng.choice(["DRAFT", "ARCHIVED", None])}
        return MINE, {"name": rng.choice(members).username}

    compared, hits = 0, counter(server, "hits")
    for _ in range(260):
        if rng.random() < 0.2:
            position = max(position, await write())
            continue
        query, variables = read()
        for _ in range(rng.choice([1, 2])):  # asked again at once: often from the cache
            caller = rng.choice(callers)
            token = caller.token if caller else None
            headers = {"X-Min-Position": str(position)} if position else {}
            cached = await ask(api, query, variables, token=token, **headers)
            exact = await ask(api, query, variables, token=token,
                              **headers, **{"X-Chronicle-Cache": "bypass"})
            assert cached.json()["data"] == exact.json()["data"], (query, variables, caller)
            compared += 1
    assert compared > 200
    assert counter(server, "hits") - hits > 20  # the cache did answer: the test compared it


@pytest.mark.parametrize("extensions", [{"minPosition": "0"}])
async def test_a_request_with_extensions_is_left_to_the_executor(
    server: Server, api: Api, extensions: dict[str, Any]
) -> None:
    body = {"query": FEED, "variables": {"first": 1}, "extensions": extensions}
    await api.raw(body)
    hits = counter(server, "hits")
    assert (await api.raw(body)).status_code == 200
    assert counter(server, "hits") == hits
