"""Profile updates, password changes and promotion to admin."""

from __future__ import annotations

import pytest

from domain.commands import ChangePassword, ForgetMe, LogIn, PromoteUser, UpdateProfile
from domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from events.catalog import LoginFailed, PasswordChanged, ProfileUpdated, RoleGranted
from tests.unit.domain.world import World


async def test_a_member_updates_their_display_name_and_bio(world: World) -> None:
    alice = world.member("alice")

    outcome = await world.run(UpdateProfile(display_name=" Alice L. ", bio="Writes."), by=alice)

    assert world.appended == [ProfileUpdated(alice, display_name="Alice L.", bio="Writes.")]
    assert outcome.result == {"user_id": alice}


async def test_only_the_changed_fields_are_recorded(world: World) -> None:
    alice = world.member("alice")

    await world.run(UpdateProfile(display_name="alice", bio="New bio"), by=alice)

    assert world.appended == [ProfileUpdated(alice, display_name=None, bio="New bio")]


async def test_an_update_that_changes_nothing_records_nothing(world: World) -> None:
    alice = world.member("alice")

    outcome = await world.run(UpdateProfile(display_name="alice", bio=""), by=alice)

    assert world.appended == []
    assert outcome.position == world.log.stream(alice)[-1].position


@pytest.mark.parametrize(("command", "field"), [
    (UpdateProfile(display_name=""), "displayName"),
    (UpdateProfile(display_name="x" * 101), "displayName"),
    (UpdateProfile(bio="x" * 2001), "bio"),
])
async def test_invalid_profiles_are_refused(
    world: World, command: UpdateProfile, field: str
) -> None:
    alice = world.member("alice")

    with pytest.raises(InvalidInput) as refused:
        await world.run(command, by=alice)

    assert refused.value.field == field


async def test_a_profile_update_with_a_stale_expected_version_conflicts(world: World) -> None:
    alice = world.member("alice")  # version 1

    with pytest.raises(Conflict) as conflict:
        await world.run(UpdateProfile(bio="hi", expected_version=0), by=alice)

    assert (conflict.value.expected, conflict.value.actual) == (0, 1)
    assert world.appended == []


async def test_a_profile_update_with_the_current_expected_version_is_recorded(
    world: World,
) -> None:
    alice = world.member("alice")

    outcome = await world.run(UpdateProfile(bio="hi", expected_version=1), by=alice)

    assert outcome.versions == {alice: 2}


async def test_anonymous_callers_cannot_update_a_profile(world: World) -> None:
    with pytest.raises(Unauthenticated):
        await world.run(UpdateProfile(bio="hi"))


async def test_a_caller_unknown_to_the_log_cannot_act(world: World) -> None:
    with pytest.raises(Unauthenticated):
        await world.run(UpdateProfile(bio="hi"), by="user-nobody")


async def test_changing_the_password_needs_the_current_one(world: World) -> None:
    alice = world.member("alice", password="old password")

    with pytest.raises(InvalidInput) as refused:
        await world.run(ChangePassword("not it at all", "new password"), by=alice)

    assert refused.value.field == "currentPassword"
    # counted as a failed login: see test_password_guessing
    assert world.appended == [LoginFailed("alice", world.clock().isoformat())]


async def test_a_changed_password_is_recorded_hashed_and_works_for_login(world: World) -> None:
    alice = world.member("alice", password="old password")

    await world.run(ChangePassword("old password", "new password"), by=alice)

    assert world.appended == [PasswordChanged(alice, "fake$new password")]
    assert (await world.run(LogIn("alice", "new password"))).result["user_id"] == alice


async def test_logging_in_reports_how_often_the_password_changed_for_the_token_to_carry(
    world: World,
) -> None:
    alice = world.member("alice", password="first password")
    assert (await world.run(LogIn("alice", "first password"))).result["credentials"] == "0"

    await world.run(ChangePassword("first password", "second password"), by=alice)
    changed = await world.run(ChangePassword("second password", "third password"), by=alice)

    assert changed.result["credentials"] == "2"  # the caller's new token carries it too

    assert (await world.run(LogIn("alice", "third password"))).result["credentials"] == "2"


async def test_a_new_password_must_be_8_to_1024_characters(world: World) -> None:
    alice = world.member("alice", password="old password")

    with pytest.raises(InvalidInput) as refused:
        await world.run(ChangePassword("old password", "short"), by=alice)

    assert refused.value.field == "newPassword"


async def test_promoting_grants_the_admin_role_as_a_system_event(world: World) -> None:
    alice = world.member("alice")

    outcome = await world.run(PromoteUser("Alice"))

    assert world.appended == [RoleGranted(alice, "ADMIN")]
    assert world.log.stream(alice)[-1].actor_id is None
    assert outcome.result == {"user_id": alice}


async def test_promoting_an_admin_again_records_nothing(world: World) -> None:
    world.member("root", admin=True)

    await world.run(PromoteUser("root"))

    assert world.appended == []


async def test_promoting_an_unknown_username_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await world.run(PromoteUser("nobody"))


async def test_a_forgotten_member_cannot_be_promoted(world: World) -> None:
    alice = world.member("alice", password="correct horse")
    await world.run(ForgetMe("correct horse"), by=alice)

    with pytest.raises(NotFound):
        await world.run(PromoteUser("alice"))
