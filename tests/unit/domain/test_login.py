"""Logging in, and the per-username throttle recorded as LoginFailed / LoginSucceeded events."""

from __future__ import annotations

import pytest

from domain import throttle
from domain.commands import ForgetMe, LogIn
from domain.errors import RateLimited, Unauthenticated
from domain.streams import throttle_stream_id
from events.catalog import LoginFailed, LoginSucceeded
from tests.unit.domain.world import FakeHasher, World

NOON = "2026-01-01T12:00:00+00:00"


@pytest.fixture
def alice(world: World) -> str:
    world.settings.update(login_max_failures=3, login_window_seconds=600)
    return world.member("alice", password="correct horse")


async def fail(world: World, username: str = "alice") -> None:
    with pytest.raises(Unauthenticated) as refused:
        await world.run(LogIn(username, "wrong password"))
    assert refused.value.message == "invalid username or password"


async def test_the_right_password_logs_in_and_records_nothing(world: World, alice: str) -> None:
    outcome = await world.run(LogIn("alice", "correct horse"))

    assert outcome.result["user_id"] == alice
    assert world.appended == []
    assert outcome.position == world.log.stream(alice)[-1].position


async def test_the_username_is_matched_whatever_its_case(world: World, alice: str) -> None:
    outcome = await world.run(LogIn("ALICE", "correct horse"))

    assert outcome.result["user_id"] == alice


async def test_a_wrong_password_is_refused_and_recorded_as_a_failure(
    world: World, alice: str
) -> None:
    await fail(world)

    assert world.appended == [LoginFailed("alice", NOON)]
    assert world.log.stream(throttle_stream_id("alice"))[0].actor_id is None


async def test_an_unknown_username_fails_the_same_way_and_is_throttled_too(
    world: World, alice: str
) -> None:
    await fail(world, "mallory")

    assert world.appended == [LoginFailed("mallory", NOON)]
    assert world.log.stream(throttle_stream_id("MALLORY")) != []


async def test_a_forgotten_member_cannot_log_in(world: World, alice: str) -> None:
    await world.run(ForgetMe("correct horse"), by=alice)

    with pytest.raises(Unauthenticated) as refused:
        await world.run(LogIn("alice", "correct horse"))

    assert refused.value.message == "invalid username or password"
    assert world.appended == [LoginFailed("alice", NOON)]


async def test_too_many_failures_in_the_window_are_rate_limited_without_checking_the_password(
    world: World, alice: str
) -> None:
    await fail(world)
    world.clock.advance(100)
    await fail(world)
    world.clock.advance(100)
    await fail(world)
    world.clock.advance(50)

    with pytest.raises(RateLimited) as limited:
        await world.run(LogIn("alice", "correct horse"))

    # the first failure (at 0 s) leaves the 600 s window at 600 s; it is now 250 s
    assert limited.value.retry_after == 350
    assert world.appended == []


async def test_retry_after_is_never_less_than_a_second(world: World, alice: str) -> None:
    for _ in range(3):
        await fail(world)
    world.clock.advance(599.9)

    with pytest.raises(RateLimited) as limited:
        await world.run(LogIn("alice", "correct horse"))

    assert limited.value.retry_after == 1


async def test_once_the_oldest_failure_leaves_the_window_logging_in_works_again(
    world: World, alice: str
) -> None:
    for _ in range(3):
        await fail(world)
        world.clock.advance(10)
    world.clock.advance(600 - 30 + 1)

    outcome = await world.run(LogIn("alice", "correct horse"))

    assert outcome.result["user_id"] == alice


async def test_a_success_after_failures_is_recorded_and_resets_the_count(
    world: World, alice: str
) -> None:
    await fail(world)
    await fail(world)
    world.clock.advance(5)

    outcome = await world.run(LogIn("alice", "correct horse"))

    assert world.appended == [LoginSucceeded("alice", "2026-01-01T12:00:05+00:00")]
    assert outcome.position == world.log.head
    await fail(world)
    await fail(world)  # two more failures: still under the limit of three since the success
    assert (await world.run(LogIn("alice", "correct horse"))).result["user_id"] == alice


async def test_the_throttle_is_per_username(world: World, alice: str) -> None:
    world.member("bob", password="bob's password")
    for _ in range(3):
        await fail(world)

    outcome = await world.run(LogIn("bob", "bob's password"))

    assert outcome.result["user_id"] == "user-bob"


def test_a_long_attack_on_one_name_keeps_the_throttle_state_bounded() -> None:
    state = throttle.ThrottleState()
    for second in range(throttle.KEPT_FAILURES + 50):
        state = throttle.evolve(state, LoginFailed("alice", f"2026-01-01T12:00:{second % 60:02d}Z"))

    assert len(state.failures) == throttle.KEPT_FAILURES


async def test_an_unknown_username_costs_a_hash_like_a_known_one(world: World, alice: str) -> None:
    known, unknown = CountingHasher(), CountingHasher()

    await fail_with(world, LogIn("alice", "whatever"), known)
    await fail_with(world, LogIn("mallory", "whatever"), unknown)

    assert known.calls == unknown.calls == 1


class CountingHasher(FakeHasher):
    def __init__(self) -> None:
        self.calls = 0

    def hash(self, password: str) -> str:
        self.calls += 1
        return super().hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.calls += 1
        return super().verify(password_hash, password)


async def fail_with(world: World, command: LogIn, hasher: FakeHasher) -> None:
    with pytest.raises(Unauthenticated):
        await world.run(command, hasher=hasher)
