"""A token names its member only while their password is the one it was issued under.

``schema.context.identify`` compares the token's count of password changes
with the users read model's, on every authenticated request; a generation of
the read model's older shape (before ``users.credentials``) serves until its
rebuild, checking what it can.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.ports import Actor
from domain.security import TokenService
from events.catalog import PasswordChanged, UserForgotten, UserRegistered
from projections.posts import PostsProjection
from projections.runner import ProjectionRunner
from projections.tables import USER_CREDENTIALS
from projections.users import UsersProjection
from resolvers.context import Services
from schema.context import identify
from tests.integration.test_projections_kit import Log, applied, open_log, running

TOKENS = TokenService("a-test-secret-that-is-long-enough-for-hs256!", 3600)


class UsersBeforeCredentials(UsersProjection):
    """The users projection as code before tokens carried credentials built it."""

    schema_version = USER_CREDENTIALS - 1


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    async with open_log(database_url) as log:
        yield log


def services(log: Log, runner: ProjectionRunner) -> Services:
    async def execute(*_: Any) -> Any:
        raise AssertionError("no command runs here")

    return Services(store=log.store, runner=runner, engine=log.engine, execute=execute,
                    tokens=TOKENS)


async def caller(log: Log, runner: ProjectionRunner, token: str) -> Actor | None:
    identified = await identify(services(log, runner), token)
    return None if identified is None else identified[0]


async def test_a_password_change_retires_the_tokens_issued_before_it(log: Log) -> None:
    async with running(log.runner()) as runner:
        await applied(log, runner, "u1", UserRegistered("u1", "alice", "a@example.org", None, "h"))
        before = TOKENS.issue("u1", credentials=0)
        assert await caller(log, runner, before) == Actor("u1", "MEMBER")

        await applied(log, runner, "u1", PasswordChanged("u1", "h2"))

        assert await caller(log, runner, before) is None
        assert await caller(log, runner, TOKENS.issue("u1", credentials=1)) == Actor("u1")


async def test_a_token_from_a_login_the_read_model_has_not_caught_up_with_is_accepted(
    log: Log,
) -> None:
    async with running(log.runner()) as runner:
        await applied(log, runner, "u1", UserRegistered("u1", "alice", "a@example.org", None, "h"))
        # logIn reads the write model: its count may be ahead of the read model's
        assert await caller(log, runner, TOKENS.issue("u1", credentials=1)) == Actor("u1")


async def test_an_older_generation_serves_until_rebuilt_then_retires_old_tokens(
    log: Log,
) -> None:
    older = log.runner(projections=[UsersBeforeCredentials(), PostsProjection()])
    async with running(older):
        await applied(log, older, "u1", UserRegistered("u1", "alice", "a@example.org", None, "h"))
        await applied(log, older, "u1", PasswordChanged("u1", "h2"))
        await applied(log, older, "u2", UserRegistered("u2", "bob", "b@example.org", None, "h"))
        await applied(log, older, "u2", UserForgotten("u2"))
        assert "credentials" not in older.tables().users.c
        stale = TOKENS.issue("u1", credentials=0)
        assert await caller(log, older, stale) == Actor("u1"), "no column to compare yet"
        assert await caller(log, older, TOKENS.issue("u2")) is None, "forgetting still counts"

    upgraded = log.runner()
    async with running(upgraded):
        async with asyncio.timeout(10):
            while "credentials" not in upgraded.tables().users.c:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        assert await caller(log, upgraded, stale) is None
        assert await caller(log, upgraded, TOKENS.issue("u1", credentials=1)) == Actor("u1")
