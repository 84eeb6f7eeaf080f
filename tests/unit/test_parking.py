"""Which failures of a batch are retried and which park an event (projections.parking)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import exc

from events.model import RecordedEvent
from projections.parking import is_transient, split
from projections.posts import PostsProjection


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def db_error(kind: type[exc.DBAPIError], sqlstate: str | None = None) -> exc.DBAPIError:
    orig = PgError(sqlstate) if sqlstate else Exception("driver error")
    return kind("INSERT ...", {}, orig)


@pytest.mark.parametrize("error", [
    ConnectionResetError("reset"), TimeoutError(), OSError("disk"),
    db_error(exc.DBAPIError, "08006"),  # connection failure
    db_error(exc.DBAPIError, "40P01"),  # deadlock
    db_error(exc.DBAPIError, "55P03"),  # lock timeout
    db_error(exc.DBAPIError, "57014"),  # statement timeout
    db_error(exc.OperationalError),  # SQLite: database is locked
])
def test_a_lost_connection_or_a_timeout_is_retried(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    db_error(exc.DBAPIError, "22021"),  # NUL in text
    db_error(exc.IntegrityError, "23502"),  # NOT NULL
    db_error(exc.IntegrityError),  # SQLite constraint
    KeyError("title"), ValueError("bad"), RuntimeError("projector bug"),
])
def test_a_failure_the_event_itself_causes_parks_it(error: BaseException) -> None:
    assert not is_transient(error)


def event(position: int, stream: str, **data: str) -> RecordedEvent:
    return RecordedEvent(uuid.uuid4(), position, stream, "post", 1, "PostPublished", 1, data,
                         datetime.now(UTC))


def test_events_of_a_blocked_post_wait_behind_it_whatever_their_stream() -> None:
    posts = PostsProjection()
    blocked = {"post:p1": 7}
    events = [
        event(8, "post-p1", post_id="p1"),
        event(9, "comment-c1", post_id="p1", comment_id="c1"),
        event(10, "post-p2", post_id="p2"),
        event(11, "comment-c1", post_id="p1", comment_id="c1"),
    ]
    parts = split(posts, events, blocked)
    assert [e.position for e in parts.apply] == [10]
    assert [(p.event.position, p.held_by) for p in parts.held] == [(8, 7), (9, 7), (11, 7)]
    assert parts.blocked["stream:comment-c1"] == 7
    assert blocked == {"post:p1": 7}, "unchanged until the batch commits"
