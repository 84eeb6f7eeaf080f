"""Projection ``posts``: what the read tables hold after each kind of event."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from events.catalog import (
    CommentAdded,
    CommentDeleted,
    CommentEdited,
    PostArchived,
    PostCreated,
    PostDeleted,
    PostEdited,
    PostLiked,
    PostPublished,
    PostRestored,
    PostUnliked,
)
from projections.history import post_states, posts_as_of
from projections.runner import ProjectionRunner
from projections.tables import FOREVER
from tests.integration.test_projections_kit import Log, applied, one, open_log, rows, running


@pytest.fixture
async def log(sqlite_url: str) -> AsyncIterator[Log]:
    async with open_log(sqlite_url) as log:
        yield log


@pytest.fixture
async def runner(log: Log) -> AsyncIterator[ProjectionRunner]:
    async with running(log.runner()) as runner:
        yield runner


async def post(log: Log, runner: ProjectionRunner, post_id: str) -> dict[str, Any] | None:
    t = runner.tables().posts
    return await one(log.engine, t, t.c.id == post_id)


async def tags(log: Log, runner: ProjectionRunner, post_id: str) -> set[str]:
    t = runner.tables().post_tags
    return {r["tag"] for r in await rows(log.engine, t, t.c.post_id == post_id)}


async def test_a_created_post_is_a_draft_with_its_tags_and_version_one(log, runner):
    created = PostCreated("p1", "u1", "Hi", "Body", ("a", "b"))
    position = await applied(log, runner, "post-1", created)
    row = await post(log, runner, "p1")
    assert row is not None
    assert (row["status"], row["version"], row["title"], row["body"]) == ("DRAFT", 1, "Hi", "Body")
    assert orjson.loads(row["tags"]) == ["a", "b"]
    assert row["published_at"] is None
    assert row["created_position"] == row["position"] == position
    assert (row["comment_count"], row["like_count"]) == (0, 0)
    assert await tags(log, runner, "p1") == {"a", "b"}


async def test_published_at_is_the_first_publication_even_after_archiving(log, runner):
    await applied(log, runner, "post-1", PostCreated("p1", "u1", "Hi", "Body"), PostPublished("p1"))
    first = (await post(log, runner, "p1"))["published_at"]
    await applied(log, runner, "post-1", PostArchived("p1"))
    assert (await post(log, runner, "p1"))["status"] == "ARCHIVED"
    await applied(log, runner, "post-1", PostPublished("p1"))
    row = await post(log, runner, "p1")
    assert (row["status"], row["version"], row["published_at"]) == ("PUBLISHED", 4, first)
    assert row["updated_at"] > row["created_at"]


async def test_an_edit_changes_only_the_fields_it_names_and_the_tag_rows_follow(log, runner):
    await applied(log, runner, "post-1", PostCreated("p1", "u1", "Hi", "Body", ("a", "b")))
    await applied(log, runner, "post-1", PostEdited("p1", body="New body"))
    row = await post(log, runner, "p1")
    assert (row["title"], row["body"], row["version"]) == ("Hi", "New body", 2)
    assert await tags(log, runner, "p1") == {"a", "b"}
    await applied(log, runner, "post-1", PostEdited("p1", tags=("c",)))
    assert await tags(log, runner, "p1") == {"c"}
    assert orjson.loads((await post(log, runner, "p1"))["tags"]) == ["c"]


async def test_a_restore_brings_back_title_body_and_tags(log, runner):
    await applied(log, runner, "post-1", PostCreated("p1", "u1", "Old", "Old body", ("x",)),
                  PostEdited("p1", title="New", body="New body", tags=("y",)))
    await applied(log, runner, "post-1", PostRestored("p1", 1, "Old", "Old body", ("x",)))
    row = await post(log, runner, "p1")
    assert (row["title"], row["body"], row["version"]) == ("Old", "Old body", 3)
    assert await tags(log, runner, "p1") == {"x"}


async def test_comment_count_excludes_deleted_comments_and_edits_are_stamped(log, runner):
    await applied(log, runner, "post-1", PostCreated("p1", "u1", "Hi", "B"), PostPublished("p1"))
    await applied(log, runner, "comment-c1", CommentAdded("c1", "p1", "u2", "First"))
    await applied(log, runner, "comment-c2", CommentAdded("c2", "p1", "u3", "Second"))
    await applied(log, runner, "comment-c1", CommentEdited("c1", "p1", "First!"))
    await applied(log, runner, "comment-c2", CommentDeleted("c2", "p1"))
    row = await post(log, runner, "p1")
    assert row["comment_count"] == 1
    assert row["version"] == 2, "comments do not change the post's version"
    c = runner.tables().comments
    remaining = await rows(log.engine, c)
    assert [(r["id"], r["body"]) for r in remaining] == [("c1", "First!")]
    assert remaining[0]["edited_at"] is not None


async def test_likes_are_rows_and_a_count_and_a_repeated_like_counts_once(log, runner):
    await applied(log, runner, "post-1", PostCreated("p1", "u1", "Hi", "B"), PostPublished("p1"))
    await applied(log, runner, "like-1", PostLiked("p1", "u2"), PostLiked("p1", "u2"))
    await applied(log, runner, "like-2", PostLiked("p1", "u3"))
    assert (await post(log, runner, "p1"))["like_count"] == 2
    await applied(log, runner, "like-1", PostUnliked("p1", "u2"))
    assert (await post(log, runner, "p1"))["like_count"] == 1
    likes = runner.tables().likes
    assert [(r["post_id"], r["user_id"]) for r in await rows(log.engine, likes)] == [("p1", "u3")]


async def test_a_deleted_post_leaves_posts_and_tags_and_its_history_ends(log, runner):
    await applied(log, runner, "post-1", PostCreated("p1", "u1", "Hi", "B", ("a",)))
    deleted_at = await applied(log, runner, "post-1", PostDeleted("p1"))
    assert await post(log, runner, "p1") is None
    assert await tags(log, runner, "p1") == set()
    h = runner.tables().post_history
    history = await rows(log.engine, h, h.c.id == "p1")
    assert max(r["valid_to"] for r in history) == deleted_at
    states = post_states(runner.tables())
    history = await rows(log.engine, states, states.c.id == "p1")
    assert max(r["valid_to"] for r in history) == deleted_at


async def test_events_for_a_post_the_model_does_not_hold_change_nothing(log, runner):
    await applied(log, runner, "post-9", PostEdited("p9", title="Ghost"), PostPublished("p9"))
    await applied(log, runner, "like-9", PostLiked("p9", "u1"))
    assert await post(log, runner, "p9") is None
    assert await rows(log.engine, runner.tables().post_history) == []
    assert await rows(log.engine, post_states(runner.tables())) == []


async def as_of(log: Log, runner: ProjectionRunner, position: int) -> dict[str, tuple[Any, ...]]:
    found = await rows(log.engine, posts_as_of(runner.tables(), position))
    return {
        r["id"]: (r["title"], r["status"], r["version"], r["comment_count"], r["like_count"])
        for r in found
    }


async def test_post_history_answers_as_of_any_position_without_replay(log, runner):
    p1 = await applied(log, runner, "post-1", PostCreated("p1", "u1", "One", "B"))
    p2 = await applied(log, runner, "post-1", PostPublished("p1"))
    p3 = await applied(log, runner, "post-2", PostCreated("p2", "u2", "Two", "B"))
    p4 = await applied(log, runner, "comment-c1", CommentAdded("c1", "p1", "u2", "Hey"))
    p5 = await applied(log, runner, "post-1", PostEdited("p1", title="One!"))
    p6 = await applied(log, runner, "like-1", PostLiked("p1", "u2"))
    p7 = await applied(log, runner, "post-2", PostDeleted("p2"))
    expected = {
        0: {},
        p1: {"p1": ("One", "DRAFT", 1, 0, 0)},
        p2: {"p1": ("One", "PUBLISHED", 2, 0, 0)},
        p3: {"p1": ("One", "PUBLISHED", 2, 0, 0), "p2": ("Two", "DRAFT", 1, 0, 0)},
        p4: {"p1": ("One", "PUBLISHED", 2, 1, 0), "p2": ("Two", "DRAFT", 1, 0, 0)},
        p5: {"p1": ("One!", "PUBLISHED", 3, 1, 0), "p2": ("Two", "DRAFT", 1, 0, 0)},
        p6: {"p1": ("One!", "PUBLISHED", 3, 1, 1), "p2": ("Two", "DRAFT", 1, 0, 0)},
        p7: {"p1": ("One!", "PUBLISHED", 3, 1, 1)},
    }
    for position, state in expected.items():
        assert await as_of(log, runner, position) == state, f"as of {position}"
    h = runner.tables().post_history
    current = await rows(log.engine, h, h.c.valid_to == FOREVER)
    assert [r["id"] for r in current] == ["p1"]


async def test_history_within_one_batch_equals_history_event_by_event(log):
    """Folding many events of one post in a single batch must chain valid_from/valid_to."""
    events = [PostCreated("p1", "u1", "T0", "B"), PostPublished("p1")]
    events += [PostEdited("p1", title=f"T{i}") for i in range(1, 6)]
    await log.append("post-1", *events)
    head = await log.append("like-1", PostLiked("p1", "u2"))
    runner = log.runner(batch_size=1000)
    await runner.start()
    try:
        assert await runner.wait_for(head, 5)
        history = sorted(
            await rows(log.engine, post_states(runner.tables())), key=lambda r: r["valid_from"]
        )
        content = await rows(log.engine, runner.tables().post_history)
    finally:
        await runner.stop()
    assert len(history) == 8
    for earlier, later in itertools.pairwise(history):
        assert earlier["valid_to"] == later["valid_from"]
    assert history[-1]["valid_to"] == FOREVER
    assert [r["version"] for r in history] == [1, 2, 3, 4, 5, 6, 7, 7]
    assert [r["like_count"] for r in history] == [0] * 7 + [1]
    assert [r["position"] for r in history] == [r["valid_from"] for r in history]
    assert len(content) == 7, "a like adds no copy of the post's content"
