"""Registering members: valid input, unique names and emails, taken in the same commit."""

from __future__ import annotations

import asyncio

import pytest

from domain import validation
from domain.commands import RegisterUser
from domain.errors import InvalidInput
from events.catalog import UserRegistered
from events.model import ClaimTaken
from tests.unit.domain.world import World


def register(username: str = "Alice_1", email: str = " Alice@Example.ORG ",
             password: str = "s3cret-enough", display_name: str | None = None) -> RegisterUser:
    return RegisterUser(username, email, password, display_name)


async def test_registering_records_a_member_with_a_hashed_password_and_normalised_email(
    world: World,
) -> None:
    outcome = await world.run(register())

    assert world.appended == [UserRegistered(
        "id-1", "Alice_1", "alice@example.org", "Alice_1", "fake$s3cret-enough", "MEMBER"
    )]
    assert outcome.result == {"user_id": "id-1"}
    assert outcome.position == world.log.head


async def test_registration_is_recorded_as_caused_by_the_new_member(world: World) -> None:
    await world.run(register())

    recorded = world.log.stream("id-1")[0]
    assert (recorded.actor_id, recorded.correlation_id, recorded.causation_id) == (
        "id-1", "corr-1", None
    )


async def test_registering_claims_the_lowercased_username_and_a_digest_of_the_email(
    world: World,
) -> None:
    await world.run(register())

    claims = {(c.scope, c.value, c.owner) for c in world.log.commits[0].claims}
    digest = validation.email_digest("alice@example.org")
    assert claims == {("username", "alice_1", "id-1"), ("email", digest, "id-1")}
    assert all("@" not in value for _, value, _ in claims)


async def test_a_display_name_can_be_chosen(world: World) -> None:
    await world.run(register(display_name="  Alice in Wonderland "))

    assert isinstance(registered := world.appended[0], UserRegistered)
    assert registered.display_name == "Alice in Wonderland"


@pytest.mark.parametrize(("command", "field"), [
    (register(username="al"), "username"),
    (register(username="a" * 33), "username"),
    (register(username="alice!"), "username"),
    (register(username="álice"), "username"),
    (register(email="not-an-address"), "email"),
    (register(email="two@@example.org"), "email"),
    (register(email="a" * 310 + "@example.org"), "email"),
    (register(password="short"), "password"),
    (register(password="x" * 1025), "password"),
    (register(display_name="   "), "displayName"),
    (register(display_name="x" * 101), "displayName"),
])
async def test_invalid_registrations_name_the_offending_field_and_record_nothing(
    world: World, command: RegisterUser, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.run(command)

    assert refused.value.field == field
    assert world.appended == []


async def test_a_username_is_taken_whatever_its_case(world: World) -> None:
    world.member("alice_1")

    with pytest.raises(InvalidInput) as refused:
        await world.run(register(username="ALICE_1", email="other@example.org"))

    assert (refused.value.field, refused.value.message) == ("username", "username is already taken")
    assert world.appended == []


async def test_an_email_is_taken_whatever_its_case(world: World) -> None:
    world.member("alice")

    with pytest.raises(InvalidInput) as refused:
        await world.run(register(username="bob", email="ALICE@example.org"))

    assert refused.value.field == "email"


async def test_a_claim_lost_to_a_concurrent_registration_is_reported_as_taken(
    world: World,
) -> None:
    # Both registrations passed the early check; the store's claim decides.
    def rival_wins(log: object) -> None:
        raise ClaimTaken("username", "alice_1")

    world.log.before_commit.append(rival_wins)

    with pytest.raises(InvalidInput) as refused:
        await world.run(register())

    assert refused.value.field == "username"
    assert world.appended == []


async def test_the_same_username_twice_at_once_registers_only_one_member(world: World) -> None:
    first, second = await asyncio.gather(
        world.run(register(email="one@example.org")),
        world.run(register(email="two@example.org")),
        return_exceptions=True,
    )

    outcomes = [first, second]
    assert sum(isinstance(o, InvalidInput) for o in outcomes) == 1
    assert [type(e) for e in world.log.recorded_after(0)] == [UserRegistered]
