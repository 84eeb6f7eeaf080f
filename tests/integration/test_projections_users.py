"""Projection ``users``: members as served, forgetting, and the published post count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from events.catalog import (
    PasswordChanged,
    PostArchived,
    PostCreated,
    PostDeleted,
    PostPublished,
    ProfileUpdated,
    RoleGranted,
    UserForgotten,
    UserRegistered,
)
from events.model import ANY, Commit, StreamAppend
from projections.runner import ProjectionRunner
from tests.integration.test_projections_kit import Log, applied, one, open_log, running


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[Log]:
    async with open_log(database_url) as log:
        yield log


@pytest.fixture
async def runner(log: Log) -> AsyncIterator[ProjectionRunner]:
    async with running(log.runner()) as runner:
        yield runner


async def user(log: Log, runner: ProjectionRunner, user_id: str) -> dict[str, Any]:
    t = runner.tables().users
    found = await one(log.engine, t, t.c.id == user_id)
    assert found is not None
    return found


async def test_a_member_without_display_name_is_shown_by_username(log, runner):
    await applied(log, runner, "user-1", UserRegistered("u1", "alice", "a@example.org", None, "h"))
    row = await user(log, runner, "u1")
    assert (row["username"], row["display_name"], row["bio"]) == ("alice", "alice", "")
    assert (row["email"], row["role"], row["post_count"], row["version"]) == (
        "a@example.org", "MEMBER", 0, 1
    )
    assert row["forgotten"] is False


async def test_profile_updates_roles_and_password_changes_move_the_version(log, runner):
    await applied(log, runner, "user-1", UserRegistered("u1", "alice", "a@example.org", "Al", "h"))
    await applied(log, runner, "user-1", ProfileUpdated("u1", bio="Writer"))
    assert (await user(log, runner, "u1"))["display_name"] == "Al"
    await applied(log, runner, "user-1", ProfileUpdated("u1", display_name="Alice A."))
    await applied(log, runner, "user-1", PasswordChanged("u1", "h2"), RoleGranted("u1", "ADMIN"))
    row = await user(log, runner, "u1")
    assert (row["display_name"], row["bio"], row["role"], row["version"]) == (
        "Alice A.", "Writer", "ADMIN", 5
    )


async def test_credentials_count_the_password_changes_that_make_older_tokens_stale(log, runner):
    await applied(log, runner, "user-1", UserRegistered("u1", "alice", "a@example.org", None, "h"))
    assert (await user(log, runner, "u1"))["credentials"] == 0
    await applied(log, runner, "user-1", PasswordChanged("u1", "h2"), PasswordChanged("u1", "h3"))
    await applied(log, runner, "user-1", ProfileUpdated("u1", bio="Writer"))
    assert (await user(log, runner, "u1"))["credentials"] == 2
    await runner.rebuild("users")
    assert (await user(log, runner, "u1"))["credentials"] == 2


async def test_a_forgotten_member_keeps_no_personal_data_even_after_a_rebuild(log, runner):
    await log.store.commit(Commit([StreamAppend("user-1", "User", ANY, [
        UserRegistered("u1", "alice", "a@example.org", "Alice", "h"),
        ProfileUpdated("u1", bio="About me"),
    ])]))
    await applied(log, runner, "user-1", UserForgotten("u1"))
    expected = ("Forgotten user", None, "", True)
    row = await user(log, runner, "u1")
    assert (row["display_name"], row["email"], row["bio"], row["forgotten"]) == expected
    await runner.rebuild("users")
    row = await user(log, runner, "u1")
    assert (row["display_name"], row["email"], row["bio"], row["forgotten"]) == expected
    assert row["username"] == "alice"


async def test_post_count_is_the_number_of_published_posts(log, runner):
    await applied(log, runner, "user-1", UserRegistered("u1", "alice", "a@example.org", None, "h"))
    await applied(log, runner, "post-1", PostCreated("p1", "u1", "A", "B"))
    assert (await user(log, runner, "u1"))["post_count"] == 0, "drafts do not count"
    await applied(log, runner, "post-1", PostPublished("p1"))
    await applied(log, runner, "post-2", PostCreated("p2", "u1", "A", "B"), PostPublished("p2"))
    await applied(log, runner, "post-3", PostCreated("p3", "u1", "A", "B"), PostPublished("p3"))
    assert (await user(log, runner, "u1"))["post_count"] == 3
    await applied(log, runner, "post-2", PostArchived("p2"))
    await applied(log, runner, "post-3", PostDeleted("p3"))
    assert (await user(log, runner, "u1"))["post_count"] == 1
    await applied(log, runner, "post-2", PostPublished("p2"))
    row = await user(log, runner, "u1")
    assert row["post_count"] == 2
    assert row["version"] == 1, "post counts do not change the member's version"
