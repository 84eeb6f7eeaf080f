"""A group's accepted commits: their results read as the rows the group writes, and keys
checked commit by commit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.catalog import PostCreated, PostEdited
from events.grouping import Group
from events.ids import parse_uuid
from events.model import (
    NO_STREAM,
    Commit,
    IdempotencyKeyReused,
    IdempotentReplay,
    Metadata,
    StreamAppend,
)


def test_a_commits_events_are_its_rows_read_back_on_demand() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    group = Group(head=7, recorded_at=at, stored_at="stored", versions={"Post-p": 2},
                  owners={}, replays={}, keys={})
    earlier = group.accept(Commit([StreamAppend("Post-q", "Post", NO_STREAM, [
        PostCreated("q", "u", "T", "B", ("x",))])]))
    edits = [PostEdited("p", title="a"), PostEdited("p", body="b")]
    result = group.accept(Commit(
        [StreamAppend("Post-p", "Post", 2, edits)], Metadata(actor_id="u", correlation_id="c")
    ))

    events = list(result.events)
    assert len(result.events) == 2 and result.position == 10
    assert [e.position for e in events] == [9, 10] and [e.version for e in events] == [3, 4]
    assert [e.event_id for e in events] == [parse_uuid(r[1]) for r in group.event_rows[1:]]
    assert events[0].data == {"post_id": "p", "title": "a", "body": None, "tags": None}
    assert (events[1].type, events[1].actor_id, events[1].correlation_id) == (
        "PostEdited", "u", "c")
    assert all(e.recorded_at == at and e.stream_id == "Post-p" for e in events)
    assert result.events[-1] == events[1] and result.events[1:] == events[1:]
    assert result.events == events and result.events != events[:1]
    assert earlier.events[0].data["tags"] == ["x"] and earlier.position == 8


def test_a_key_first_used_earlier_in_the_same_group_is_a_replay_or_refused() -> None:
    group = Group(head=0, recorded_at=datetime(2026, 1, 2, tzinfo=UTC), stored_at="stored",
                  versions={}, owners={}, replays={}, keys={})

    def keyed(post_id: str, fingerprint: str) -> Commit:
        return Commit([StreamAppend(f"Post-{post_id}", "Post", NO_STREAM, [
            PostCreated(post_id, "u", "T", "B", ())])],
            idempotency_key="k", result={"post_id": post_id}, fingerprint=fingerprint)

    first = group.accept(keyed("a", "fp-1"))
    with pytest.raises(IdempotentReplay) as replay:
        group.accept(keyed("b", "fp-1"))
    with pytest.raises(IdempotencyKeyReused):
        group.accept(keyed("c", "fp-2"))

    assert (replay.value.result, replay.value.position) == ({"post_id": "a"}, first.position)
    assert replay.value.fingerprint == "fp-1"
    assert len(group.event_rows) == 1 and len(group.idempotency_rows) == 1
