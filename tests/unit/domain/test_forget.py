"""Forgetting a member: crypto-shredding as the domain sees it."""

from __future__ import annotations

import pytest

from domain import user, validation
from domain.commands import CreatePost, ForgetMe, ForgetUser, RegisterUser
from domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from domain.repository import load
from events.catalog import LoginFailed, UserForgotten
from events.model import Claim
from tests.unit.domain.world import World


async def test_forgetting_oneself_shreds_the_key_and_releases_the_email(world: World) -> None:
    alice = world.member("alice", password="correct horse")

    outcome = await world.run(ForgetMe("correct horse"), by=alice)

    assert world.appended == [UserForgotten(alice)]
    commit = world.log.commits[-1]
    assert commit.shred == [alice]
    digest = validation.email_digest("alice@example.org")
    assert list(commit.releases) == [Claim("email", digest, alice)]
    assert outcome.result == {"user_id": alice}


async def test_forgetting_oneself_needs_the_password(world: World) -> None:
    alice = world.member("alice", password="correct horse")

    with pytest.raises(InvalidInput) as refused:
        await world.run(ForgetMe("wrong"), by=alice)

    assert refused.value.field == "password"
    # counted as a failed login: see test_password_guessing
    assert world.appended == [LoginFailed("alice", world.clock().isoformat())]


async def test_a_forgotten_members_personal_fields_read_back_as_none(world: World) -> None:
    alice = world.member("alice", password="correct horse")

    await world.run(ForgetMe("correct horse"), by=alice)

    state = (await load(world.log, user.AGGREGATE, alice)).state
    assert (state.email, state.display_name, state.bio) == (None, None, None)
    assert (state.username, state.forgotten) == ("alice", True)
    # the log itself serves the registration without them now
    assert world.log.stream(alice)[0].data["email"] is None


async def test_the_username_stays_taken_but_the_email_is_free_again(world: World) -> None:
    alice = world.member("alice", password="correct horse")
    await world.run(ForgetMe("correct horse"), by=alice)

    with pytest.raises(InvalidInput) as refused:
        await world.run(RegisterUser("alice", "new@example.org", "password1"))
    assert refused.value.field == "username"

    outcome = await world.run(RegisterUser("alice2", "alice@example.org", "password1"))
    assert outcome.result["user_id"]


async def test_a_forgotten_member_cannot_act(world: World) -> None:
    alice = world.member("alice", password="correct horse")
    await world.run(ForgetMe("correct horse"), by=alice)

    with pytest.raises(Unauthenticated):
        await world.run(CreatePost("title", "body"), by=alice)


async def test_an_admin_forgets_another_member(world: World) -> None:
    root = world.member("root", admin=True)
    bob = world.member("bob")

    await world.run(ForgetUser(bob), by=root)

    assert world.appended == [UserForgotten(bob)]
    assert world.log.commits[-1].shred == [bob]
    assert world.log.stream(bob)[-1].actor_id == root


async def test_members_cannot_forget_others(world: World) -> None:
    alice = world.member("alice")
    bob = world.member("bob")

    with pytest.raises(Forbidden):
        await world.run(ForgetUser(bob), by=alice)


@pytest.mark.parametrize("target", ["user-nobody", "user-bob"])
async def test_forgetting_an_unknown_or_already_forgotten_member_is_not_found(
    world: World, target: str
) -> None:
    root = world.member("root", admin=True)
    bob = world.member("bob")
    await world.run(ForgetUser(bob), by=root)

    with pytest.raises(NotFound):
        await world.run(ForgetUser(target), by=root)
