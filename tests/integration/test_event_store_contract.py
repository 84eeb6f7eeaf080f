"""The event store's contract, run against every backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update

from events.catalog import (
    DomainEvent,
    PostCreated,
    PostEdited,
    PostPublished,
    ProfileUpdated,
    UserForgotten,
    UserRegistered,
)
from events.contract import EventStore
from events.db import create_engine, migrate
from events.model import (
    ANY,
    NO_STREAM,
    Claim,
    ClaimTaken,
    Commit,
    ConcurrencyError,
    ExpectedVersion,
    IdempotencyKeyReused,
    IdempotentReplay,
    Metadata,
    Snapshot,
    StreamAppend,
)
from events.store import SqlEventStore
from events.tables import events, idempotency


class RecordingBus:
    def __init__(self, *, broken: bool = False) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.broken = broken

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        if self.broken:
            raise ConnectionError("bus down")
        self.published.append((channel, payload))


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
async def store(database_url: str, bus: RecordingBus) -> AsyncIterator[SqlEventStore]:
    await migrate(database_url)
    engine = create_engine(database_url)
    store = SqlEventStore(engine, bus=bus)
    await store.start()
    yield store
    await store.close()
    await engine.dispose()


def created(post_id: str, title: str = "Hello") -> PostCreated:
    return PostCreated(post_id=post_id, author_id="u1", title=title, body="…", tags=("a",))


def edited(post_id: str, title: str) -> PostEdited:
    return PostEdited(post_id=post_id, title=title)


def on(
    stream: str, expected: ExpectedVersion, *evts: DomainEvent, snapshot: Snapshot | None = None
) -> StreamAppend:
    return StreamAppend(stream, stream.split("-")[0], expected, evts, snapshot)


def commit(*appends: StreamAppend, **kwargs: Any) -> Commit:
    return Commit(appends=appends, **kwargs)


def registered(user_id: str, username: str, email: str) -> UserRegistered:
    return UserRegistered(
        user_id=user_id, username=username, email=email,
        display_name=f"{username} the member", password_hash="$argon2id$secret",
    )


# --- append and read ------------------------------------------------------------


async def test_appended_events_are_read_back_in_order_with_their_metadata(
    store: SqlEventStore,
) -> None:
    meta = Metadata(actor_id="u1", correlation_id="c1", causation_id="cmd1")
    result = await store.commit(commit(
        on("Post-1", NO_STREAM, created("1"), edited("1", "Second"), PostPublished("1")),
        metadata=meta,
    ))

    assert result.versions == {"Post-1": 3}
    assert result.position == 3
    read = await store.read_stream("Post-1")
    assert [e.version for e in read] == [1, 2, 3]
    assert [e.type for e in read] == ["PostCreated", "PostEdited", "PostPublished"]
    assert read == list(result.events)
    first = read[0]
    assert first.data == {
        "post_id": "1", "author_id": "u1", "title": "Hello", "body": "…", "tags": ["a"],
    }
    assert first.to_domain() == created("1")
    assert (first.actor_id, first.correlation_id, first.causation_id) == ("u1", "c1", "cmd1")
    assert first.recorded_at.tzinfo is not None
    assert first.stream_type == "Post"
    assert first.schema_version == 2


async def test_a_stream_is_read_between_two_versions(store: SqlEventStore) -> None:
    titles = [edited("1", f"t{i}") for i in range(2, 7)]
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"), *titles)))

    middle = await store.read_stream("Post-1", from_version=2, to_version=4)

    assert [e.version for e in middle] == [2, 3, 4]
    assert await store.read_stream("Post-unknown") == []


async def test_stored_data_uses_camel_case_keys(store: SqlEventStore) -> None:
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"))))

    async with store.engine.connect() as conn:
        stored = (await conn.execute(select(events.c.data))).scalar_one()

    assert '"postId":"1"' in stored and '"authorId":"u1"' in stored


# --- expected versions ------------------------------------------------------------


async def test_an_exact_expected_version_must_match_and_a_conflict_appends_nothing(
    store: SqlEventStore,
) -> None:
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"))))

    with pytest.raises(ConcurrencyError) as conflict:
        await store.commit(commit(on("Post-1", 0, edited("1", "stale"))))
    await store.commit(commit(on("Post-1", 1, edited("1", "fresh"))))

    assert (conflict.value.expected, conflict.value.actual) == (0, 1)
    assert [e.data["title"] for e in await store.read_stream("Post-1")] == ["Hello", "fresh"]
    assert await store.head_position() == 2


async def test_no_stream_refuses_a_stream_that_exists(store: SqlEventStore) -> None:
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"))))

    with pytest.raises(ConcurrencyError):
        await store.commit(commit(on("Post-1", NO_STREAM, created("1"))))

    assert await store.stream_version("Post-1") == 1


async def test_any_appends_whatever_the_stream_version(store: SqlEventStore) -> None:
    await store.commit(commit(on("Post-1", ANY, created("1"))))
    result = await store.commit(commit(on("Post-1", ANY, edited("1", "again"))))

    assert result.versions == {"Post-1": 2}


async def test_a_commit_over_several_streams_is_all_or_nothing(store: SqlEventStore) -> None:
    await store.commit(commit(on("Post-2", NO_STREAM, created("2"))))

    with pytest.raises(ConcurrencyError):
        await store.commit(commit(
            on("Post-1", NO_STREAM, created("1")), on("Post-2", NO_STREAM, created("2"))
        ))
    both = await store.commit(commit(
        on("Post-1", NO_STREAM, created("1")), on("Post-2", 1, PostPublished("2"))
    ))

    assert both.versions == {"Post-1": 1, "Post-2": 2}
    assert [e.position for e in both.events] == [2, 3]
    assert [(e.stream_id, e.version) for e in await store.read_all()] == [
        ("Post-2", 1), ("Post-1", 1), ("Post-2", 2),
    ]


async def test_every_event_gets_its_own_id_and_position(store: SqlEventStore) -> None:
    await asyncio.gather(*(
        store.commit(commit(on(f"Post-{i}", NO_STREAM, created(str(i)), PostPublished(str(i)))))
        for i in range(40)
    ))

    every = await store.read_all(limit=1000)

    assert len({e.event_id for e in every}) == 80
    assert [e.position for e in every] == list(range(1, 81))


# --- group commit -------------------------------------------------------------------


async def test_a_refused_commit_in_a_group_does_not_fail_the_others(
    store: SqlEventStore,
) -> None:
    await store.commit(commit(on("Post-taken", NO_STREAM, created("taken"))))

    outcomes = await asyncio.gather(
        *(store.commit(commit(on(f"Post-{i}", NO_STREAM, created(str(i))))) for i in range(30)),
        store.commit(commit(on("Post-taken", NO_STREAM, created("taken")))),
        *(store.commit(commit(on(f"Post-{i}", NO_STREAM, created(str(i)))))
          for i in range(30, 60)),
        return_exceptions=True,
    )

    assert store.metrics.max_group_size > 1
    assert isinstance(outcomes[30], ConcurrencyError)
    assert not any(isinstance(o, BaseException) for i, o in enumerate(outcomes) if i != 30)
    assert await store.head_position() == 61


async def test_commits_on_one_stream_in_one_group_are_checked_in_arrival_order(
    store: SqlEventStore,
) -> None:
    first, second, stale = await asyncio.gather(
        store.commit(commit(on("Post-1", 0, created("1")))),
        store.commit(commit(on("Post-1", 1, edited("1", "two")))),
        store.commit(commit(on("Post-1", 1, edited("1", "lost")))),
        return_exceptions=True,
    )

    assert not isinstance(first, BaseException) and not isinstance(second, BaseException)
    assert second.versions == {"Post-1": 2}
    assert isinstance(stale, ConcurrencyError) and stale.actual == 2
    assert [e.version for e in await store.read_stream("Post-1")] == [1, 2]


async def test_a_commit_that_breaks_the_transaction_fails_alone(store: SqlEventStore) -> None:
    # Two snapshots for the same stream and version: the database refuses the
    # second, which none of the in-memory checks can foresee.
    clash = Snapshot("Post-x", 1, {"n": 1})
    outcomes = await asyncio.gather(
        store.commit(commit(on("Post-1", NO_STREAM, created("1"), snapshot=clash))),
        store.commit(commit(on("Post-2", NO_STREAM, created("2")))),
        store.commit(commit(on("Post-3", NO_STREAM, created("3"), snapshot=clash))),
        store.commit(commit(on("Post-4", NO_STREAM, created("4")))),
        return_exceptions=True,
    )

    assert [isinstance(o, BaseException) for o in outcomes] == [False, False, True, False]
    assert {e.stream_id for e in await store.read_all()} == {"Post-1", "Post-2", "Post-4"}
    assert store.metrics.group_retries == 1


# --- claims ---------------------------------------------------------------------------


async def test_a_claim_is_idempotent_for_its_owner_and_refused_to_anyone_else(
    store: SqlEventStore,
) -> None:
    alice = Claim("username", "alice", "u1")
    await store.commit(commit(on("User-u1", NO_STREAM, registered("u1", "alice", "a@x.io")),
                              claims=[alice]))
    await store.commit(commit(claims=[alice]))

    with pytest.raises(ClaimTaken) as taken:
        await store.commit(commit(
            on("User-u2", NO_STREAM, registered("u2", "alice", "b@x.io")),
            claims=[Claim("username", "alice", "u2")],
        ))

    assert (taken.value.scope, taken.value.value) == ("username", "alice")
    assert await store.claim_owner("username", "alice") == "u1"
    assert await store.stream_version("User-u2") == 0


async def test_a_released_claim_can_be_taken_by_someone_else(store: SqlEventStore) -> None:
    await store.commit(commit(claims=[Claim("username", "alice", "u1")]))

    await store.commit(commit(
        claims=[Claim("username", "alicia", "u1")], releases=[Claim("username", "alice", "u1")]
    ))
    await store.commit(commit(claims=[Claim("username", "alice", "u2")]))

    assert await store.claim_owner("username", "alice") == "u2"
    assert await store.claim_owner("username", "alicia") == "u1"


async def test_a_claim_is_not_released_by_someone_who_does_not_own_it(
    store: SqlEventStore,
) -> None:
    await store.commit(commit(claims=[Claim("email", "digest", "u1")]))

    await store.commit(commit(releases=[Claim("email", "digest", "u2")]))

    assert await store.claim_owner("email", "digest") == "u1"


async def test_of_concurrent_claims_on_one_value_exactly_one_wins(store: SqlEventStore) -> None:
    outcomes = await asyncio.gather(
        *(store.commit(commit(
            on(f"User-u{i}", NO_STREAM, registered(f"u{i}", "bob", f"{i}@x.io")),
            claims=[Claim("username", "bob", f"u{i}")],
        )) for i in range(10)),
        return_exceptions=True,
    )

    winners = [i for i, o in enumerate(outcomes) if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, ClaimTaken) for i, o in enumerate(outcomes) if i != winners[0])
    assert await store.claim_owner("username", "bob") == f"u{winners[0]}"
    assert await store.head_position() == 1


# --- idempotency ------------------------------------------------------------------------


async def test_a_repeated_idempotency_key_returns_the_first_result_and_appends_nothing(
    store: SqlEventStore,
) -> None:
    first = await store.commit(commit(
        on("Post-1", NO_STREAM, created("1")), idempotency_key="k1", result={"postId": "1"},
        fingerprint="fp-1",
    ))

    with pytest.raises(IdempotentReplay) as replay:
        await store.commit(commit(
            on("Post-2", NO_STREAM, created("2")), idempotency_key="k1", result={"postId": "2"},
            fingerprint="fp-1",
        ))

    assert (replay.value.result, replay.value.position) == ({"postId": "1"}, first.position)
    assert replay.value.fingerprint == "fp-1"
    stored = await store.idempotent_result("k1")
    assert stored is not None
    assert (stored.result, stored.position, stored.fingerprint) == (
        {"postId": "1"}, first.position, "fp-1")
    assert await store.idempotent_result("k2") is None
    assert await store.head_position() == 1


async def test_a_repeated_idempotency_key_with_another_fingerprint_is_refused(
    store: SqlEventStore,
) -> None:
    await store.commit(commit(
        on("Post-1", NO_STREAM, created("1")), idempotency_key="k1", result={"postId": "1"},
        fingerprint="fp-1",
    ))

    with pytest.raises(IdempotencyKeyReused):
        await store.commit(commit(
            on("Post-2", NO_STREAM, created("2")), idempotency_key="k1", result={"postId": "2"},
            fingerprint="fp-2",
        ))

    stored = await store.idempotent_result("k1")
    assert stored is not None and (stored.result, stored.fingerprint) == ({"postId": "1"}, "fp-1")
    assert await store.head_position() == 1


async def test_concurrent_duplicates_of_an_idempotency_key_append_once(
    store: SqlEventStore,
) -> None:
    outcomes = await asyncio.gather(
        *(store.commit(commit(
            on(f"Post-{i}", NO_STREAM, created(str(i))), idempotency_key="same",
            result={"postId": str(i)}, fingerprint="fp",
        )) for i in range(10)),
        return_exceptions=True,
    )

    done = [o for o in outcomes if not isinstance(o, BaseException)]
    replays = [o for o in outcomes if isinstance(o, IdempotentReplay)]
    assert len(done) == 1 and len(replays) == 9
    assert {(r.result["postId"], r.position) for r in replays} == {("0", done[0].position)}
    assert await store.head_position() == 1


async def test_one_key_in_one_group_and_across_groups_is_written_once(
    store: SqlEventStore,
) -> None:
    """Commits issued together share a group (the first in line is accepted and the
    others meet its key within the group); later ones meet the stored key."""

    def keyed(i: int, fingerprint: str) -> Commit:
        return commit(on(f"Post-{i}", NO_STREAM, created(str(i))), idempotency_key="k",
                      result={"postId": str(i)}, fingerprint=fingerprint)

    together = await asyncio.gather(
        *(store.commit(keyed(i, fp)) for i, fp in enumerate(["fp", "fp", "other", "fp"])),
        return_exceptions=True,
    )
    later = await asyncio.gather(
        *(store.commit(keyed(i, fp)) for i, fp in ((4, "fp"), (5, "other"))),
        return_exceptions=True,
    )

    first, *rest = [*together, *later]
    assert not isinstance(first, BaseException) and first.position == 1
    assert [type(o).__name__ for o in rest] == [
        "IdempotentReplay", "IdempotencyKeyReused", "IdempotentReplay",
        "IdempotentReplay", "IdempotencyKeyReused",
    ]
    assert all(o.position == 1 for o in rest if isinstance(o, IdempotentReplay))
    assert await store.head_position() == 1


async def test_an_idempotency_key_older_than_a_day_may_be_used_again(
    store: SqlEventStore,
) -> None:
    await store.commit(commit(on("Post-1", NO_STREAM, created("1")), idempotency_key="old"))
    async with store.engine.begin() as conn:
        await conn.execute(update(idempotency).values(
            created_at=datetime.now(UTC) - timedelta(hours=25)
        ))

    again = await store.commit(commit(
        on("Post-2", NO_STREAM, created("2")), idempotency_key="old", result={"n": 2}
    ))

    stored = await store.idempotent_result("old")
    assert stored is not None and (stored.result, stored.position) == ({"n": 2}, again.position)


async def test_the_idempotency_ttl_is_the_stores_setting(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    store = SqlEventStore(engine, idempotency_ttl=timedelta(minutes=5))
    await store.start()
    try:
        await store.commit(commit(on("Post-1", NO_STREAM, created("1")), idempotency_key="k",
                                  result={"n": 1}, fingerprint="fp"))
        async with store.engine.begin() as conn:
            await conn.execute(update(idempotency).values(
                created_at=datetime.now(UTC) - timedelta(minutes=6)
            ))

        assert await store.idempotent_result("k") is None
        again = await store.commit(commit(on("Post-2", NO_STREAM, created("2")),
                                          idempotency_key="k", result={"n": 2}, fingerprint="x"))
        stored = await store.idempotent_result("k")
        assert stored is not None and (stored.result, stored.position) == ({"n": 2}, again.position)
    finally:
        await store.close()
        await engine.dispose()


# --- reading the whole log ------------------------------------------------------------------


async def test_the_log_is_read_in_position_order_in_batches_and_with_filters(
    store: SqlEventStore,
) -> None:
    for i in range(1, 6):
        pid = str(i)
        await store.commit(commit(on(f"Post-{pid}", NO_STREAM, created(pid), PostPublished(pid))))

    first_page = await store.read_all(limit=4)
    next_page = await store.read_all(after=first_page[-1].position, limit=4)
    published = await store.read_all(types=["PostPublished"])
    one_stream = await store.read_all(stream_id="Post-3")
    bounded = await store.read_all(after=2, to_position=5)
    tailed = [e.position async for e in store.tail(after=3, batch=2)]

    assert [e.position for e in first_page] == [1, 2, 3, 4]
    assert [e.position for e in next_page] == [5, 6, 7, 8]
    assert [e.position for e in published] == [2, 4, 6, 8, 10]
    assert [(e.stream_id, e.version) for e in one_stream] == [("Post-3", 1), ("Post-3", 2)]
    assert [e.position for e in bounded] == [3, 4, 5]
    assert tailed == list(range(4, 11))
    assert await store.read_all(types=[]) == []
    assert await store.head_position() == 10


async def test_an_empty_log_has_head_zero(store: SqlEventStore) -> None:
    assert await store.head_position() == 0
    assert await store.read_all() == []
    assert await store.stream_version("Post-1") == 0


# --- snapshots ----------------------------------------------------------------------------


async def _post_snapshotted_at_2_and_4(store: SqlEventStore) -> None:
    """Post-1 with four events, snapshotted at version 2 and (shape 3) at version 4."""
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"), edited("1", "b"),
                                 snapshot=Snapshot("Post-1", 2, {"title": "b"}))))
    await store.commit(commit(on("Post-1", 2, edited("1", "c"), edited("1", "d"),
                                 snapshot=Snapshot("Post-1", 4, {"title": "d"}, 3))))


async def test_the_latest_snapshot_at_or_below_a_version_is_returned(
    store: SqlEventStore,
) -> None:
    await _post_snapshotted_at_2_and_4(store)

    latest = await store.latest_snapshot("Post-1")
    older = await store.latest_snapshot("Post-1", max_version=3)

    assert latest == Snapshot("Post-1", 4, {"title": "d"}, 3)
    assert older == Snapshot("Post-1", 2, {"title": "b"})
    assert await store.latest_snapshot("Post-1", max_version=1) is None
    assert await store.latest_snapshot("Post-2") is None


async def test_load_stream_answers_as_the_snapshot_and_stream_reads_would(
    store: SqlEventStore,
) -> None:
    await _post_snapshotted_at_2_and_4(store)
    await store.commit(commit(on("Post-1", 4, edited("1", "e"))))
    await store.commit(commit(on("User-u1", NO_STREAM, registered("u1", "ann", "a@x.io"))))

    for stream_id, max_version in [("Post-1", None), ("Post-1", 4), ("Post-1", 3),
                                   ("Post-1", 1), ("Post-1", 0), ("User-u1", None),
                                   ("Post-2", None)]:
        snapshot = await store.latest_snapshot(stream_id, max_version=max_version)
        start = snapshot.version if snapshot is not None else 1
        tail = await store.read_stream(stream_id, from_version=start, to_version=max_version)

        loaded = await store.load_stream(stream_id, max_version=max_version)

        assert loaded == (snapshot, tail), (stream_id, max_version)
    assert [e.version for e in (await store.load_stream("Post-1"))[1]] == [4, 5]


async def test_load_events_decodes_as_the_generic_load_would(store: SqlEventStore) -> None:
    await _post_snapshotted_at_2_and_4(store)
    await store.commit(commit(on("Post-1", 4, edited("1", "e"))))
    await store.commit(commit(on("User-u1", NO_STREAM, registered("u1", "ann", "a@x.io"),
                                 ProfileUpdated("u1", bio="Owls"))))
    await store.commit(commit(on("User-u2", NO_STREAM, registered("u2", "bo", "b@x.io"))))
    await store.commit(commit(on("User-u2", 1, UserForgotten("u2")), shred=["u2"]))
    async with store.engine.begin() as conn:  # a row in the old shape, upcast on the way
        await conn.execute(insert(events).values(
            position=100, event_id="00000000-0000-4000-8000-000000000001", stream_id="Post-old",
            stream_type="Post", version=1, type="PostCreated", schema_version=1,
            data='{"postId":"old","authorId":"u1","title":"Then","body":"b"}',
            recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
        ))

    cases = [("Post-1", None, None), ("Post-1", 4, None), ("Post-1", 3, None),
             ("Post-1", 1, None), ("Post-1", 0, None), ("Post-1", None, 1),
             ("Post-1", None, 3), ("Post-1", None, 2), ("Post-1", 3, 3), ("User-u1", None, None),
             ("User-u2", None, None), ("Post-old", None, 1), ("Post-2", None, None)]
    for (stream_id, max_version, snapshot_version), dated in product(cases, (False, True)):
        generic = await EventStore.load_events(
            store, stream_id, max_version=max_version, snapshot_version=snapshot_version,
            dated=dated,
        )

        loaded = await store.load_events(
            stream_id, max_version=max_version, snapshot_version=snapshot_version, dated=dated
        )

        case = (stream_id, max_version, snapshot_version, dated)
        assert (loaded.version, loaded.position, loaded.recorded_at) == (
            generic.version, generic.position, generic.recorded_at), case
        assert (loaded.recorded_at is not None) == (dated and loaded.version > 0), case
        if loaded.snapshot == generic.snapshot:
            assert loaded.events == generic.events, case
        else:  # the generic load folds from the start rather than from an older snapshot
            assert loaded.snapshot is not None and generic.snapshot is None, case
            assert loaded.events == generic.events[loaded.snapshot.version:], case
    # never a snapshot of another shape: one of the asked shape (SQLite finds the older
    # one) or none (PostgreSQL folds from the start when the newest is of another shape)
    older_shape = await store.load_events("Post-1", snapshot_version=1)
    history = [created("1"), edited("1", "b"), edited("1", "c"), edited("1", "d"),
               edited("1", "e")]
    assert older_shape.snapshot in (None, Snapshot("Post-1", 2, {"title": "b"}))
    start = older_shape.snapshot.version if older_shape.snapshot is not None else 0
    assert older_shape.events == history[start:]
    assert (await store.load_events("User-u2")).events[0] == UserRegistered(
        "u2", "bo", None, None, "$argon2id$secret")
    assert (await store.load_events("Post-old")).events == [
        PostCreated("old", "u1", "Then", "b", ())]


# --- upcasting ----------------------------------------------------------------------------


async def test_a_post_stored_at_schema_version_one_is_read_at_version_two(
    store: SqlEventStore,
) -> None:
    v1 = '{"postId":"old","authorId":"u1","title":"From the past","body":"b"}'
    async with store.engine.begin() as conn:
        await conn.execute(insert(events).values(
            position=1, event_id="00000000-0000-4000-8000-000000000001", stream_id="Post-old",
            stream_type="Post", version=1, type="PostCreated", schema_version=1, data=v1,
            recorded_at=datetime(2020, 1, 1, tzinfo=UTC),
        ))

    [old] = await store.read_stream("Post-old")

    assert old.schema_version == 2
    assert old.data["tags"] == []
    assert old.to_domain() == PostCreated("old", "u1", "From the past", "b", ())
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(events.c.data))).scalar_one() == v1


# --- personal data ------------------------------------------------------------------------


async def test_personal_fields_are_encrypted_at_rest_and_readable_until_shredded(
    store: SqlEventStore,
) -> None:
    await store.commit(commit(on("User-u1", NO_STREAM, registered("u1", "carol", "c@x.io"),
                                 ProfileUpdated("u1", bio="Writes about owls"))))
    await store.commit(commit(on("User-u2", NO_STREAM, registered("u2", "dave", "d@x.io"))))
    async with store.engine.connect() as conn:
        stored = " ".join((await conn.execute(select(events.c.data))).scalars())

    before = await store.read_stream("User-u1")
    await store.commit(commit(on("User-u1", 2, UserForgotten("u1")), shred=["u1"]))
    after = await store.read_stream("User-u1")

    assert "c@x.io" not in stored and "owls" not in stored and "carol the member" not in stored
    assert before[0].data["email"] == "c@x.io"
    assert before[1].data["bio"] == "Writes about owls"
    assert after[0].data["email"] is None and after[0].data["display_name"] is None
    assert after[1].data["bio"] is None
    assert after[0].data["username"] == "carol"
    assert after[0].data["password_hash"] == "$argon2id$secret"
    assert (await store.read_stream("User-u2"))[0].data["email"] == "d@x.io"


async def test_a_shred_is_seen_by_every_store_on_the_same_database(
    store: SqlEventStore, database_url: str
) -> None:
    other_engine = create_engine(database_url)
    other = SqlEventStore(other_engine)
    await other.start()
    try:
        await store.commit(commit(on("User-u1", NO_STREAM, registered("u1", "erin", "e@x.io"))))
        assert (await other.read_stream("User-u1"))[0].data["email"] == "e@x.io"

        await other.commit(commit(on("User-u1", 1, UserForgotten("u1")), shred=["u1"]))

        assert (await store.read_stream("User-u1"))[0].data["email"] is None
    finally:
        await other.close()
        await other_engine.dispose()


# --- time -----------------------------------------------------------------------------------


async def test_version_at_is_the_last_version_recorded_by_an_instant(
    store: SqlEventStore,
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"), edited("1", "b"))))
    [first, second] = await store.read_stream("Post-1")
    await store.commit(commit(on("Post-1", 2, edited("1", "c"))))
    [*_, third] = await store.read_stream("Post-1")

    assert await store.version_at("Post-1", before) == 0
    assert await store.version_at("Post-1", second.recorded_at) == 2
    assert await store.version_at("Post-1", third.recorded_at) == 3
    assert await store.version_at("Post-1", third.recorded_at.replace(tzinfo=None)) == 3
    assert first.recorded_at <= second.recorded_at <= third.recorded_at


# --- schema, durability, notices, stats --------------------------------------------


async def _schema_versions(database_url: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(select(events.c.position))
            return list((await conn.execute(text("SELECT version_num FROM alembic_version"))).all())
    finally:
        await engine.dispose()


async def test_migrations_started_at_once_by_several_processes_upgrade_once(
    database_url: str,
) -> None:
    script = "import asyncio, sys; from events.db import migrate; asyncio.run(migrate(sys.argv[1]))"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, database_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(4)
    ]
    finished = await asyncio.gather(*(p.communicate() for p in processes))
    errors = [err.decode() for _, err in finished]

    assert errors == [""] * 4
    assert [p.returncode for p in processes] == [0] * 4
    assert len(await _schema_versions(database_url)) == 1


async def test_migrating_concurrently_in_one_process_and_on_every_start_upgrades_once(
    database_url: str,
) -> None:
    # Alembic's environment is process-global: migrations on one loop take turns.
    await asyncio.gather(*(migrate(database_url) for _ in range(3)))
    await migrate(database_url)

    assert len(await _schema_versions(database_url)) == 1


async def test_on_sqlite_a_commit_waits_for_another_process_holding_the_write_lock(
    sqlite_url: str,
) -> None:
    await migrate(sqlite_url)
    engine = create_engine(sqlite_url)
    store = SqlEventStore(engine)
    await store.start()
    other_process = sqlite3.connect(sqlite_url.split("///", 1)[1], isolation_level=None)
    try:
        other_process.execute("BEGIN IMMEDIATE")
        other_process.execute(
            "INSERT INTO events (position, event_id, stream_id, stream_type, version, type,"
            " schema_version, data, recorded_at) VALUES (1, ?, 'Post-cli', 'Post', 1,"
            " 'PostPublished', 1, '{\"postId\":\"cli\"}', '2026-01-01T00:00:00.000000+00:00')",
            (str(uuid.uuid4()),),
        )
        waiting = asyncio.create_task(store.commit(commit(on("Post-1", NO_STREAM, created("1")))))
        await asyncio.sleep(0.2)
        assert not waiting.done()

        other_process.execute("COMMIT")
        result = await waiting
    finally:
        other_process.close()
        await store.close()
        await engine.dispose()

    assert result.position == 2


async def test_committed_events_survive_reopening_the_store(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    store = SqlEventStore(engine)
    await store.start()
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"))))
    await store.close()
    await engine.dispose()

    await migrate(database_url)
    engine = create_engine(database_url)
    reopened = SqlEventStore(engine)
    await reopened.start()
    try:
        later = await reopened.commit(commit(on("Post-1", 1, PostPublished("1"))))
        assert [e.type for e in await reopened.read_stream("Post-1")] == [
            "PostCreated", "PostPublished",
        ]
        assert later.position == 2
    finally:
        await reopened.close()
        await engine.dispose()


async def test_each_group_is_announced_on_the_bus(store: SqlEventStore, bus: RecordingBus) -> None:
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"), PostPublished("1"))))
    await store.close()  # sends what is queued

    assert bus.published == [("chronicle.events", {
        "first": 1, "last": 2, "streams": ["Post-1"], "types": ["PostCreated", "PostPublished"],
    })]


async def test_a_broken_bus_never_fails_a_commit(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    store = SqlEventStore(engine, bus=RecordingBus(broken=True))
    await store.start()
    try:
        result = await store.commit(commit(on("Post-1", NO_STREAM, created("1"))))
        assert result.position == 1
    finally:
        await store.close()
        await engine.dispose()


async def test_stats_count_events_and_streams(store: SqlEventStore) -> None:
    await store.commit(commit(on("Post-1", NO_STREAM, created("1"), PostPublished("1"))))
    await store.commit(commit(on("User-u1", NO_STREAM, registered("u1", "fay", "f@x.io"))))

    stats = await store.stats()

    assert stats == {
        "events": 3, "head": 3, "streams": 2,
        "streams_by_type": {"Post": 1, "User": 1},
        "events_by_type": {"PostCreated": 1, "PostPublished": 1, "UserRegistered": 1},
    }
    assert store.metrics.commits_total == 2
    assert store.metrics.append_latency_seconds_count == 2


async def test_closing_the_store_first_writes_every_commit_already_issued(
    store: SqlEventStore,
) -> None:
    issued = [
        asyncio.create_task(store.commit(commit(on(f"Post-{i}", NO_STREAM, created(str(i))))))
        for i in range(20)
    ]
    await asyncio.sleep(0)  # every task has handed its commit to the writer

    await store.close()

    assert [(await task).position for task in issued] == list(range(1, 21))


async def test_a_closed_store_refuses_commits(store: SqlEventStore) -> None:
    await store.close()

    with pytest.raises(RuntimeError):
        await store.commit(commit(on("Post-1", NO_STREAM, created("1"))))
