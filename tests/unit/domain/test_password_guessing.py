"""A stolen token does not buy faster password guessing: every password check shares
the login throttle of the member's username (LoginFailed / LoginSucceeded)."""

from __future__ import annotations

import pytest

from domain.commands import ChangePassword, ForgetMe, LogIn
from domain.errors import InvalidInput, RateLimited, Unauthenticated
from events.catalog import LoginFailed, LoginSucceeded, PasswordChanged
from tests.unit.domain.world import World

WINDOW = 600


@pytest.fixture
def alice(world: World) -> str:
    world.settings.update(login_max_failures=3, login_window_seconds=WINDOW)
    return world.member("alice", password="correct horse")


async def test_a_wrong_current_password_counts_as_a_failed_login(
    world: World, alice: str
) -> None:
    with pytest.raises(InvalidInput):
        await world.run(ChangePassword("guess one", "new password"), by=alice)

    assert world.appended == [LoginFailed("alice", world.clock().isoformat())]


@pytest.mark.parametrize("guess", [
    ChangePassword("guess it!", "new password"),
    ForgetMe("guess it!"),
])
async def test_too_many_wrong_passwords_are_rate_limited_like_logins(
    world: World, alice: str, guess: ChangePassword | ForgetMe
) -> None:
    for _ in range(3):
        with pytest.raises(InvalidInput):
            await world.run(guess, by=alice)
    world.clock.advance(60)

    with pytest.raises(RateLimited) as limited:
        await world.run(guess, by=alice)

    assert limited.value.retry_after == WINDOW - 60
    assert world.appended == []
    with pytest.raises(RateLimited):  # and the correct password does not help either
        await world.run(LogIn("alice", "correct horse"))


async def test_failed_logins_throttle_password_changes_too(world: World, alice: str) -> None:
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await world.run(LogIn("alice", "wrong password"))

    with pytest.raises(RateLimited):
        await world.run(ChangePassword("correct horse", "new password"), by=alice)

    assert world.appended == []


async def test_a_right_current_password_resets_the_count_with_the_change(
    world: World, alice: str
) -> None:
    with pytest.raises(InvalidInput):
        await world.run(ForgetMe("guess it!"), by=alice)

    await world.run(ChangePassword("correct horse", "new password"), by=alice)

    now = world.clock().isoformat()
    assert world.appended == [PasswordChanged(alice, "fake$new password"),
                              LoginSucceeded("alice", now)]
    assert len(world.log.commits[-1].appends) == 2  # one commit: both or neither
