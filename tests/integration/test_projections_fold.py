"""The projectors as pure functions: events folded over in-memory rows, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from events.catalog import (
    CommentAdded,
    CommentDeleted,
    DomainEvent,
    PostCreated,
    PostDeleted,
    PostLiked,
    PostPublished,
    UserForgotten,
    UserRegistered,
)
from events.model import RecordedEvent
from events.shapes import data_of
from projections import posts, users
from projections.batches import MAX_SPAN, Batch, next_span
from projections.tables import FOREVER

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def recorded(position: int, version: int, event: DomainEvent) -> RecordedEvent:
    return RecordedEvent(
        event_id=uuid.uuid4(), position=position, stream_id="s", stream_type="Post",
        version=version, type=type(event).__name__, schema_version=1, data=data_of(event),
        recorded_at=T0 + timedelta(seconds=position),
    )


def fold_posts(*events: RecordedEvent, counts_apart: bool = True) -> posts.PostsBatch:
    batch = posts.PostsBatch.empty(counts_apart=counts_apart)
    for e in events:  # every post starts unknown to the table
        batch.loaded.setdefault(e.data["post_id"], None)
        batch.posts.setdefault(e.data["post_id"], None)
    posts.fold(batch, events)
    return batch


def test_a_post_created_published_liked_and_commented_in_one_batch():
    batch = fold_posts(
        recorded(1, 1, PostCreated("p1", "u1", "T", "B", ("a", "a", "b"))),
        recorded(2, 2, PostPublished("p1")),
        recorded(3, 1, PostLiked("p1", "u2")),
        recorded(4, 1, CommentAdded("c1", "p1", "u2", "Hi")),
    )
    row: Any = batch.posts["p1"]
    assert (row["status"], row["version"], row["like_count"], row["comment_count"]) == (
        "PUBLISHED", 2, 1, 1
    )
    assert row["tags"] == '["a","b"]', "duplicate tags are kept once"
    assert row["published_at"] == T0 + timedelta(seconds=2)
    assert row["updated_at"] == T0 + timedelta(seconds=2), "likes and comments are no edits"
    assert [(h["valid_from"], h["valid_to"]) for h in batch.history] == [(1, 2), (2, FOREVER)]
    assert [(valid_from, likes, comments) for _, valid_from, comments, likes in batch.counts] == [
        (1, 0, 0), (3, 1, 0), (4, 1, 1)
    ]
    assert [(c["kind"], c["change"]) for c in batch.feed_changes()] == [
        ("post", "ADDED"), ("comment", "ADDED")
    ]


def test_a_generation_of_the_older_shape_keeps_a_whole_row_per_change():
    batch = fold_posts(
        recorded(1, 1, PostCreated("p1", "u1", "T", "B")),
        recorded(2, 2, PostPublished("p1")),
        recorded(3, 1, PostLiked("p1", "u2")),
        counts_apart=False,
    )
    assert [(h["valid_from"], h["valid_to"], h["like_count"]) for h in batch.history] == [
        (1, 2, 0), (2, 3, 0), (3, FOREVER, 1)
    ]
    assert batch.counts == []


def test_a_post_created_and_deleted_in_one_batch_leaves_only_closed_history():
    batch = fold_posts(
        recorded(1, 1, PostCreated("p1", "u1", "T", "B")),
        recorded(2, 1, CommentAdded("c1", "p1", "u2", "Hi")),
        recorded(3, 1, CommentDeleted("c1", "p1")),
        recorded(4, 2, PostDeleted("p1")),
    )
    assert batch.posts["p1"] is None
    assert batch.comments["c1"] is None
    assert [(h["valid_from"], h["valid_to"]) for h in batch.history] == [(1, 4)]
    assert [(valid_from, comments) for _, valid_from, comments, _ in batch.counts] == [
        (1, 0), (2, 1), (3, 0)
    ]
    # the post never entered the feed; the comment did exist for a while
    assert [(c["kind"], c["change"]) for c in batch.feed_changes()] == [
        ("comment", "ADDED"), ("comment", "REMOVED")
    ]


def test_a_forgotten_member_loses_name_email_and_bio():
    batch = users.UsersBatch.empty()
    users.fold(batch, [
        recorded(1, 1, UserRegistered("u1", "alice", "a@example.org", "Alice", "h")),
        recorded(2, 2, UserForgotten("u1")),
    ])
    row: Any = batch.users["u1"]
    assert (row["display_name"], row["email"], row["bio"], row["forgotten"], row["version"]) == (
        "Forgotten user", None, "", True, 2
    )
    assert batch.changes() == [{"kind": "user", "id": "u1", "change": "ADDED"}]


def test_a_batch_looks_ahead_as_far_as_its_types_were_dense_in_the_last_one():
    events = [recorded(p, 1, PostLiked("p1", f"u{p}")) for p in range(1, 11)]
    dense = Batch(after=0, position=10, events=events, caught_up=False)
    sparse = Batch(after=0, position=100, events=events, caught_up=False)
    empty = Batch(after=0, position=100, events=[], caught_up=False)
    assert next_span(dense, 10) == 11, "about limit positions, 10% to spare"
    assert next_span(sparse, 10) == 110
    assert next_span(empty, 10) == 10 * MAX_SPAN
    assert next_span(Batch(0, 10_000, events, False), 10) == 10 * MAX_SPAN, "bounded"
