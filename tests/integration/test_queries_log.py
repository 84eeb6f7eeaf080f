"""Reads from the log: events (visibility, redaction, pages), Post.history, postAt,
eventTypes, headPosition and projections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.commands import AddComment, EditPost, LikePost, LogIn, PublishPost
from domain.errors import Unauthenticated
from domain.ports import Actor
from events.catalog import CATALOG
from resolvers.redaction import redact_data
from tests.integration.test_queries_world import World, open_world

EVENTS = """
query($first: Int, $after: Position, $stream: ID, $types: [String!]) {
  events(first: $first, after: $after, streamId: $stream, types: $types) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { position streamId streamType version type schemaVersion data actorId } }
  }
}
"""


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


def nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in data["events"]["edges"]]


async def test_the_log_requires_authentication(world: World) -> None:
    assert await world.error_code(EVENTS) == "UNAUTHENTICATED"


async def test_an_admin_sees_every_event_in_position_order(world: World) -> None:
    alice = await world.member("alice")
    root = await world.admin("root")
    await world.post(alice, publish=False)
    events = nodes(await world.data(EVENTS, root))
    assert [e["type"] for e in events] == [
        "UserRegistered", "UserRegistered", "RoleGranted", "PostCreated"
    ]
    positions = [int(e["position"]) for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


async def test_a_member_sees_their_own_streams_and_published_posts_only(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    with pytest.raises(Unauthenticated):
        await world.chronicle.execute(LogIn("alice", "wrong password"), None, None)
    bobs_draft = await world.post(bob, "Bob's draft", publish=False)
    bobs_post = await world.post(bob, "Bob's post", publish=True)
    await world.run(AddComment(bobs_post, "Nice"), alice)
    await world.run(LikePost(bobs_post), alice)
    alices_draft = await world.post(alice, "Alice's draft", publish=False)

    seen = nodes(await world.data(EVENTS, alice))
    by_stream = {(e["streamType"], e["type"]) for e in seen}
    assert ("User", "UserRegistered") in by_stream
    assert ("LoginThrottle", "LoginFailed") in by_stream
    assert {e["streamId"] for e in seen if e["streamType"] == "Post"} == {
        bobs_post, alices_draft
    }
    assert ("Comment", "CommentAdded") in by_stream and ("Like", "PostLiked") in by_stream
    assert all(e["data"].get("userId") != bob.user_id for e in seen if e["streamType"] == "User")
    assert bobs_draft not in {e["streamId"] for e in seen}

    # Once published, Bob's post shows from its publication on: its draft past stays
    # private (README "One rule for the past").
    await world.run(PublishPost(bobs_draft), bob)
    seen = nodes(await world.data(EVENTS, alice))
    assert [e["type"] for e in seen if e["streamId"] == bobs_draft] == ["PostPublished"]


async def test_event_data_is_camel_case_without_secrets_and_email_only_for_its_owner(
    world: World,
) -> None:
    alice = await world.member("alice")
    root = await world.admin("root")
    own = nodes(await world.data(EVENTS, alice, types=["UserRegistered"]))
    assert len(own) == 1
    assert own[0]["data"]["userId"] == alice.user_id
    assert own[0]["data"]["email"] == "alice@example.com"
    assert own[0]["data"]["displayName"] == "alice"
    for event in nodes(await world.data(EVENTS, root)):
        assert "passwordHash" not in event["data"] and "password_hash" not in event["data"]
    as_admin = nodes(await world.data(EVENTS, root, stream=alice.user_id))
    assert as_admin[0]["data"]["email"] == "alice@example.com"


@pytest.mark.parametrize(
    ("viewer", "email"),
    [
        (Actor("alice-id"), "a@example.com"),
        (Actor("root-id", "ADMIN"), "a@example.com"),
        (Actor("bob-id"), None),
        (None, None),
    ],
)
def test_redaction_keeps_email_for_its_subject_and_admins_and_drops_secrets(
    viewer: Actor | None, email: str | None
) -> None:
    data = {
        "user_id": "alice-id", "username": "alice", "email": "a@example.com",
        "display_name": "Alice", "password_hash": "$argon2id$...", "role": "MEMBER",
    }
    served = redact_data(CATALOG["UserRegistered"], data, viewer)
    assert served == {
        "userId": "alice-id", "username": "alice", "email": email,
        "displayName": "Alice", "role": "MEMBER",
    }


async def test_events_are_paged_by_position_with_filters(world: World) -> None:
    alice = await world.member("alice")
    root = await world.admin("root")
    post = await world.post(alice, "One")
    await world.run(EditPost(post, title="Two"), alice)
    first = await world.data(EVENTS, root, first=2)
    assert first["events"]["pageInfo"]["hasNextPage"] is True
    end = first["events"]["pageInfo"]["endCursor"]
    assert end == nodes(first)[-1]["position"] and end.isdigit()
    rest = nodes(await world.data(EVENTS, root, after=end))
    assert [e["type"] for e in rest] == ["RoleGranted", "PostCreated", "PostPublished",
                                         "PostEdited"]
    stream = nodes(await world.data(EVENTS, alice, stream=post))
    assert [(e["type"], e["version"]) for e in stream] == [
        ("PostCreated", 1), ("PostPublished", 2), ("PostEdited", 3)
    ]
    assert all(e["actorId"] == alice.user_id for e in stream)
    edits = nodes(await world.data(EVENTS, root, types=["PostEdited", "RoleGranted"]))
    assert [e["type"] for e in edits] == ["RoleGranted", "PostEdited"]
    assert await world.error_code(EVENTS, root, first=101) == "BAD_USER_INPUT"


async def test_a_posts_history_is_its_stream_oldest_first_for_those_who_see_it(
    world: World,
) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "Draft title", publish=False)
    await world.run(EditPost(post, title="Better title"), alice)
    history = """query($id: ID!) { post(id: $id) { history { type version data } } }"""
    own = (await world.data(history, alice, id=post))["post"]["history"]
    assert [(e["type"], e["version"]) for e in own] == [("PostCreated", 1), ("PostEdited", 2)]
    assert own[1]["data"]["title"] == "Better title"
    assert (await world.data(history, bob, id=post))["post"] is None


POST_AT = """
query($id: ID!, $version: Int, $at: DateTime) {
  postAt(id: $id, version: $version, at: $at) { id authorId title tags status deleted version asOf }
}
"""


async def test_post_at_rebuilds_a_version_or_an_instant_from_the_log(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "First", tags=("a",))
    created = (await world.data(POST_AT, alice, id=post, version=2))["postAt"]
    await asyncio.sleep(0.01)
    await world.run(EditPost(post, title="Second", tags=("b",)), alice)

    assert created["title"] == "First" and created["tags"] == ["a"]
    assert (created["status"], created["version"], created["deleted"]) == ("PUBLISHED", 2, False)
    assert created["authorId"] == alice.user_id
    latest = (await world.data(POST_AT, bob, id=post))["postAt"]
    assert (latest["title"], latest["version"]) == ("Second", 3)
    at_then = (await world.data(POST_AT, bob, id=post, at=created["asOf"]))["postAt"]
    assert (at_then["title"], at_then["version"]) == ("First", 2)
    assert (await world.data(POST_AT, bob, id=post, version=99))["postAt"] is None
    assert (await world.data(POST_AT, bob, id="missing"))["postAt"] is None
    assert await world.error_code(POST_AT, bob, id=post, version=0) == "BAD_USER_INPUT"


async def test_post_at_hides_unpublished_states_from_other_members(world: World) -> None:
    alice, bob = await world.member("alice"), await world.member("bob")
    post = await world.post(alice, "Draft", publish=False)
    assert (await world.data(POST_AT, bob, id=post))["postAt"] is None
    assert (await world.data(POST_AT, alice, id=post))["postAt"]["status"] == "DRAFT"
    await world.run(PublishPost(post), alice)
    assert (await world.data(POST_AT, bob, id=post, version=1))["postAt"] is None
    assert (await world.data(POST_AT, bob, id=post, version=2))["postAt"]["status"] == "PUBLISHED"


async def test_event_types_list_the_catalogue_with_a_json_schema_without_secrets(
    world: World,
) -> None:
    types = {
        t["name"]: t
        for t in (await world.data("{ eventTypes { name streamType schemaVersion dataSchema } }"))[
            "eventTypes"
        ]
    }
    assert set(types) == set(CATALOG)
    registered = types["UserRegistered"]
    assert registered["streamType"] == "User"
    properties = registered["dataSchema"]["properties"]
    assert "passwordHash" not in properties
    assert properties["email"]["type"] == ["string", "null"]
    assert properties["userId"] == {"type": "string"}
    created = types["PostCreated"]
    assert created["schemaVersion"] == 2
    assert created["dataSchema"]["properties"]["tags"] == {
        "type": "array", "items": {"type": "string"}
    }


async def test_head_position_is_the_last_recorded_position_as_digits(world: World) -> None:
    assert await world.data("{ headPosition }") == {"headPosition": "0"}
    alice = await world.member("alice")
    await world.post(alice)
    head = await world.chronicle.store.head_position()
    assert await world.data("{ headPosition }") == {"headPosition": str(head)}


async def test_projection_statuses_are_for_admins_only(world: World) -> None:
    alice = await world.member("alice")
    root = await world.admin("root")
    query = "{ projections { name state position lag lastError } }"
    statuses = (await world.data(query, root))["projections"]
    assert {s["name"] for s in statuses} == {"users", "posts"}
    assert all(s["state"] in {"LIVE", "CATCHING_UP"} and s["position"].isdigit() for s in statuses)
    assert await world.error_code(query, alice) == "FORBIDDEN"
    assert await world.error_code(query) == "UNAUTHENTICATED"


async def test_a_sparse_view_of_a_long_log_ends_pages_early_and_resumes_where_it_stopped(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("resolvers.log.SCAN_BATCH", 1)
    monkeypatch.setattr("resolvers.log.SCAN_BUDGET", 3)
    alice, bob = await world.member("alice"), await world.member("bob")  # positions 1, 2
    for n in range(4):
        await world.post(bob, f"Bob's draft {n}", publish=False)  # 3 .. 6
    await world.post(alice, "Alice's draft", publish=False)  # 7

    pages = []
    after = None
    while True:
        page = (await world.data(EVENTS, alice, first=10, after=after))["events"]
        pages.append(([int(e["node"]["position"]) for e in page["edges"]],
                      page["pageInfo"]["endCursor"]))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == [([1], "3"), ([], "6"), ([7], "7")]
