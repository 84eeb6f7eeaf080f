"""Idempotency keys: per caller and operation, bound to the input, checked again at commit."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from domain import idempotency
from domain.commands import AddComment, CreatePost
from domain.errors import InvalidInput
from domain.handlers import handle
from events.catalog import CommentAdded, PostCreated
from events.model import IdempotentReplay
from tests.unit.domain.world import World


@pytest.fixture
def alice(world: World) -> str:
    return world.member("alice")


@pytest.fixture
def bob(world: World) -> str:
    return world.member("bob")


def created(world: World) -> list[PostCreated]:
    return [e for e in world.log.recorded_after(0) if isinstance(e, PostCreated)]


def comments(world: World) -> list[CommentAdded]:
    return [e for e in world.log.recorded_after(0) if isinstance(e, CommentAdded)]


# --- the same request again --------------------------------------------------------


async def test_a_post_created_again_with_the_same_key_and_input_returns_the_first_result(
    world: World, alice: str
) -> None:
    first = await world.run(CreatePost("Hello", "body", idempotency_key="k1"), by=alice)

    again = await world.run(CreatePost("Hello", "body", idempotency_key="k1"), by=alice)

    assert (again.result, again.position) == (first.result, first.position)
    assert world.appended == []
    stored = world.log.commits[0]
    assert stored.idempotency_key == f"CreatePost:{alice}:k1"
    assert stored.result == first.result
    assert stored.fingerprint == idempotency.fingerprint(CreatePost("Hello", "body"))


async def test_a_comment_added_again_with_the_same_key_and_input_returns_the_first_result(
    world: World, alice: str
) -> None:
    post = world.post(alice)
    first = await world.run(AddComment(post, "Nice", idempotency_key="c1"), by=alice)

    again = await world.run(AddComment(post, "Nice", idempotency_key="c1"), by=alice)

    assert again.result == first.result == {"comment_id": first.result["comment_id"],
                                            "post_id": post}
    assert again.position == first.position
    assert len(comments(world)) == 1


# --- whose key, for what ----------------------------------------------------------------


async def test_keys_are_per_member(world: World, alice: str, bob: str) -> None:
    await world.run(CreatePost("Hello", "body", idempotency_key="k1"), by=alice)

    await world.run(CreatePost("Hello", "body", idempotency_key="k1"), by=bob)

    assert [type(e) for e in world.appended] == [PostCreated]


async def test_a_post_key_used_again_for_a_comment_is_another_request(
    world: World, alice: str
) -> None:
    post = world.post(alice)
    await world.run(CreatePost("Hello", "body", idempotency_key="k"), by=alice)

    outcome = await world.run(AddComment(post, "Nice", idempotency_key="k"), by=alice)

    assert world.appended == [CommentAdded(outcome.result["comment_id"], post, alice, "Nice")]


async def test_a_comment_key_used_again_for_a_post_is_another_request(
    world: World, alice: str, bob: str
) -> None:
    post = world.post(alice)
    comment = await world.run(AddComment(post, "Nice", idempotency_key="kx"), by=bob)

    outcome = await world.run(CreatePost("Mine", "body", idempotency_key="kx"), by=bob)

    assert outcome.result["post_id"] not in (post, comment.result["post_id"])
    assert world.appended == [PostCreated(outcome.result["post_id"], bob, "Mine", "body", ())]


# --- the same key for other input -----------------------------------------------------


@pytest.mark.parametrize("other", [
    CreatePost("Hello!", "body", idempotency_key="k1"),
    CreatePost("Hello", "other body", idempotency_key="k1"),
    CreatePost("Hello", "body", ("tag",), idempotency_key="k1"),
    CreatePost("Hello", "body", publish=True, idempotency_key="k1"),
])
async def test_a_post_key_sent_with_other_input_is_refused(
    world: World, alice: str, other: CreatePost
) -> None:
    await world.run(CreatePost("Hello", "body", idempotency_key="k1"), by=alice)

    with pytest.raises(InvalidInput) as refused:
        await world.run(other, by=alice)

    assert refused.value.field == "idempotencyKey"
    assert world.appended == []


async def test_a_comment_key_sent_with_another_body_is_refused(
    world: World, alice: str, bob: str
) -> None:
    post = world.post(alice)
    await world.run(AddComment(post, "first", idempotency_key="k"), by=bob)

    with pytest.raises(InvalidInput) as refused:
        await world.run(AddComment(post, "second", idempotency_key="k"), by=bob)

    assert refused.value.field == "idempotencyKey"
    assert world.appended == []
    assert [c.body for c in comments(world)] == ["first"]


# --- what a key may be ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   ", "\t\n", "x" * 256, "a\x00b", "tab\there", "\ud800"])
async def test_a_blank_overlong_or_unprintable_key_is_refused(
    world: World, alice: str, key: str
) -> None:
    post = world.post(alice)

    for command in (CreatePost("Hello", "body", idempotency_key=key),
                    AddComment(post, "", idempotency_key=key)):
        with pytest.raises(InvalidInput) as refused:
            await world.run(command, by=alice)
        assert refused.value.field == "idempotencyKey"
        assert world.appended == []


async def test_a_key_of_255_characters_is_accepted(world: World, alice: str) -> None:
    await world.run(CreatePost("Hello", "body", idempotency_key="é" * 255), by=alice)

    assert [type(e) for e in world.appended] == [PostCreated]


# --- the fingerprint -----------------------------------------------------------------


def test_the_fingerprint_is_of_the_operation_and_its_input_not_of_the_key() -> None:
    fp = idempotency.fingerprint

    assert fp(CreatePost("T", "B", ("a", "b"))) == fp(CreatePost("T", "B", ("a", "b"), False, "k"))
    assert fp(CreatePost("T", "B", ("a", "b"))) != fp(CreatePost("T", "B", ("b", "a")))
    assert fp(CreatePost("T", "B")) != fp(CreatePost("T", "B", publish=True))
    assert fp(AddComment("p", "B")) != fp(AddComment("p", "B "))
    assert len(fp(CreatePost("\ud800", "\x00"))) == 64  # any input hashes, valid or not


def test_the_fingerprint_is_sha256_of_canonical_json_so_every_process_agrees() -> None:
    canonical = '["CreatePost",{"body":"B\\u00e9","publish":false,"tags":["a"],"title":"T"}]'

    assert idempotency.fingerprint(CreatePost("T", "B\u00e9", ("a",))) == (
        hashlib.sha256(canonical.encode()).hexdigest()
    )


# --- races: the store has the last word ------------------------------------------------


async def test_a_replay_detected_only_by_the_store_still_returns_the_first_result(
    world: World, alice: str
) -> None:
    # two identical requests raced past the early check: the store decides
    first = await world.run(CreatePost("Hello", "body", idempotency_key="k1"), by=alice)
    key = f"CreatePost:{alice}:k1"
    stored = world.log.idempotency.pop(key)
    world.log.before_commit.append(lambda log: log.idempotency.update({key: stored}))

    again = await world.run(CreatePost("Hello", "body", idempotency_key="k1"), by=alice)

    assert (again.result, again.position) == (first.result, first.position)
    assert world.appended == []


async def test_other_input_detected_only_by_the_store_is_still_refused(
    world: World, alice: str
) -> None:
    key = f"CreatePost:{alice}:k1"
    rival = IdempotentReplay({"post_id": "theirs"}, 1, idempotency.fingerprint(
        CreatePost("Other", "input")))
    world.log.before_commit.append(lambda log: log.idempotency.update({key: rival}))

    with pytest.raises(InvalidInput) as refused:
        await world.run(CreatePost("Hello", "body", idempotency_key="k1"), by=alice)

    assert refused.value.field == "idempotencyKey"
    assert world.appended == []


async def test_concurrent_retries_with_one_key_write_once_and_all_get_the_first_answer(
    world: World, alice: str
) -> None:
    post = world.post(alice)
    ctx = world.context(alice)
    before = world.log.head

    posts = await asyncio.gather(*(
        handle(CreatePost("Hello", "body", idempotency_key="p"), ctx) for _ in range(8)
    ))
    added = await asyncio.gather(*(
        handle(AddComment(post, "Nice", idempotency_key="c"), ctx) for _ in range(8)
    ))

    assert [type(e) for e in world.log.recorded_after(before)] == [PostCreated, CommentAdded]
    assert len({(o.result["post_id"], o.position) for o in posts}) == 1
    assert len({(o.result["comment_id"], o.position) for o in added}) == 1
