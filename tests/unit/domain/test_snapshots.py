"""Snapshots: written at the interval, used for loading, never holding personal data."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from domain import comment, like, post, throttle, user, validation
from domain.aggregate import Aggregate
from domain.commands import CreatePost, EditPost, UpdateProfile
from domain.repository import load, post_at
from events.catalog import PostEdited
from events.model import Snapshot
from tests.unit.domain.world import World


async def edit_many(world: World, post_id: str, author: str, n: int) -> None:
    for i in range(n):
        await world.run(EditPost(post_id, body=f"body {i}"), by=author)


async def test_a_snapshot_is_written_whenever_a_commit_crosses_the_interval(world: World) -> None:
    world.settings["snapshot_every"] = 5
    alice = world.member("alice")
    post_id = world.post(alice)  # versions 1-2

    await edit_many(world, post_id, alice, 9)  # versions 3-11

    versions = [s.version for s in world.log.snapshots[post_id]]
    assert versions == [5, 10]
    at_10 = world.log.snapshots[post_id][-1]
    assert at_10.state["body"] == "body 7"
    assert at_10.schema_version == post.AGGREGATE.snapshot_version


async def test_a_commit_of_several_events_that_jumps_over_a_multiple_is_snapshotted(
    world: World,
) -> None:
    world.settings["snapshot_every"] = 2
    alice = world.member("alice")

    outcome = await world.run(CreatePost("Hi", "", publish=True), by=alice)  # versions 1-2

    assert [s.version for s in world.log.snapshots[outcome.result["post_id"]]] == [2]


async def test_loading_uses_the_latest_snapshot_and_reads_only_the_tail(world: World) -> None:
    world.settings["snapshot_every"] = 10
    alice = world.member("alice")
    post_id = world.post(alice)
    await edit_many(world, post_id, alice, 21)  # 23 events, snapshots at 10 and 20
    world.log.reads.clear()

    loaded = await load(world.log, post.AGGREGATE, post_id)

    assert (loaded.version, loaded.state.body) == (23, "body 20")
    [read] = world.log.reads
    # the snapshotted event is read again for its position, never folded
    assert (read.from_version, read.served) == (20, 4)


async def test_a_past_version_loads_from_the_snapshot_before_it(world: World) -> None:
    world.settings["snapshot_every"] = 10
    alice = world.member("alice")
    post_id = world.post(alice)
    await edit_many(world, post_id, alice, 21)
    world.log.reads.clear()

    then = await post_at(world.log, post_id, version=15)

    assert then is not None
    assert (then.version, then.state.body) == (15, "body 12")
    [read] = world.log.reads
    assert (read.from_version, read.to_version, read.served) == (10, 15, 6)


async def test_the_state_from_a_snapshot_equals_the_state_folded_from_the_start(
    world: World,
) -> None:
    world.settings["snapshot_every"] = 4
    alice = world.member("alice")
    post_id = world.post(alice, tags=("a", "b"))
    await edit_many(world, post_id, alice, 7)

    with_snapshot = await load(world.log, post.AGGREGATE, post_id)
    world.log.snapshots.clear()
    from_scratch = await load(world.log, post.AGGREGATE, post_id)

    assert with_snapshot == from_scratch


async def test_a_snapshot_of_an_older_shape_is_ignored(world: World) -> None:
    alice = world.member("alice")
    post_id = world.post(alice, title="Real")
    stale = Snapshot(post_id, 2, {"title": "from an old shape"}, schema_version=0)
    world.log.snapshots[post_id] = [stale]

    loaded = await load(world.log, post.AGGREGATE, post_id)

    assert loaded.state.title == "Real"


async def test_user_snapshots_never_hold_personal_data(world: World) -> None:
    # Snapshots are not encrypted: a copy of personal data there would survive forgetting.
    world.settings["snapshot_every"] = 2
    alice = world.member("alice")  # version 1

    await world.run(UpdateProfile(bio="my secret bio"), by=alice)  # version 2: snapshot

    [snapshot] = world.log.snapshots[alice]
    assert not {"email", "display_name", "bio"} & snapshot.state.keys()
    assert "my secret bio" not in str(snapshot.state)
    loaded = (await load(world.log, user.AGGREGATE, alice)).state
    assert (loaded.username, loaded.email_digest, loaded.password_hash) == (
        "alice", validation.email_digest("alice@example.org"), "fake$correct horse"
    )


async def test_events_folded_after_a_snapshot_are_the_tail_only(world: World) -> None:
    world.settings["snapshot_every"] = 3
    alice = world.member("alice")
    post_id = world.post(alice)
    await edit_many(world, post_id, alice, 2)  # v4: snapshot at 3 was written with v3
    world.log.given(post_id, PostEdited(post_id, title="late"))

    loaded = await load(world.log, post.AGGREGATE, post_id)

    assert (loaded.state.title, loaded.state.body, loaded.version) == ("late", "body 1", 5)


@pytest.mark.parametrize("aggregate, state", [
    (post.AGGREGATE, post.PostState("p", "a", "T", "B", ("x", "y"), "ARCHIVED", True)),
    (comment.AGGREGATE, comment.CommentState("c", "p", "a", "body", deleted=True)),
    (like.AGGREGATE, like.LikeState(liked=True)),
    (throttle.AGGREGATE, throttle.ThrottleState(("2026-01-01T12:00:00+00:00",))),
    (user.AGGREGATE, user.UserState("u", "alice", None, "digest", None, None, "hash", "ADMIN")),
])
def test_every_aggregate_survives_a_json_round_trip_through_its_snapshot(
    aggregate: Aggregate[Any], state: object
) -> None:
    stored = json.loads(json.dumps(aggregate.to_snapshot(state)))

    assert aggregate.from_snapshot(stored) == state


def test_a_snapshot_without_a_newer_field_restores_it_to_its_default() -> None:
    # A snapshot written before a field existed (the same snapshot_version) lacks it.
    stored = post.AGGREGATE.to_snapshot(post.PostState("p", "a", "T", "B", ("x",)))
    del stored["deleted"]

    restored = post.AGGREGATE.from_snapshot(stored)

    assert restored == post.PostState("p", "a", "T", "B", ("x",), deleted=False)


def test_a_restored_state_is_as_frozen_as_a_folded_one() -> None:
    stored = post.AGGREGATE.to_snapshot(post.PostState("p", "a", "T", "B", ("x",)))

    restored = post.AGGREGATE.from_snapshot(stored)

    assert type(restored) is post.PostState and isinstance(restored.tags, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        restored.title = "changed"  # type: ignore[misc]
