"""Where the log stood at an instant: ``events.instants.position_at`` and ``Query.positionAt``.

The answer is the position of the last event recorded at or before the instant
(0 before the first, the head after the newest), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from domain.commands import CreatePost
from events.catalog import PostCreated, PostEdited
from events.db import create_engine, migrate
from events.instants import position_at
from events.model import ANY, Commit, StreamAppend
from events.store import SqlEventStore
from events.tables import events
from tests.integration.test_queries_world import World, open_world

US = timedelta(microseconds=1)
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    await migrate(database_url)
    engine = create_engine(database_url)
    store = SqlEventStore(engine)
    await store.start()
    yield store
    await store.close()
    await engine.dispose()


async def append(store: SqlEventStore, post_id: str, count: int) -> None:
    """One commit of ``count`` events: they share one recorded_at."""
    evts = [PostCreated(post_id=post_id, author_id="u1", title="t", body="b", tags=())]
    evts += [PostEdited(post_id=post_id, title=f"t{n}") for n in range(1, count)]
    await store.commit(Commit(appends=(StreamAppend(post_id, "Post", ANY, tuple(evts)),)))


async def recorded(store: SqlEventStore) -> list[tuple[int, datetime]]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            select(events.c.position, events.c.recorded_at).order_by(events.c.position)
        )
        return [(int(p), t) for p, t in rows]


def last_recorded_by(log: list[tuple[int, datetime]], at: datetime) -> int:
    """The definition, by a walk over every event."""
    return max((p for p, t in log if t <= at), default=0)


async def test_an_empty_log_stood_at_position_zero_at_any_time(store: SqlEventStore) -> None:
    for at in (BASE, datetime.now(UTC), datetime.max.replace(tzinfo=UTC)):
        assert await position_at(store.engine, at) == 0


async def test_each_commit_s_instant_answers_its_last_position(store: SqlEventStore) -> None:
    for n, size in enumerate([1, 3, 1, 2, 5, 1, 1, 4]):
        await append(store, f"Post-{n}", size)
    log = await recorded(store)
    assert len(log) == 18

    for _, t in log:
        for at in (t - US, t, t + US):
            assert await position_at(store.engine, at) == last_recorded_by(log, at), at
    assert await position_at(store.engine, log[0][1] - timedelta(days=1)) == 0
    assert await position_at(store.engine, datetime.now(UTC) + timedelta(days=365)) == 18


async def test_any_instant_over_a_longer_log_with_gaps_in_time(store: SqlEventStore) -> None:
    for n in range(20):
        await append(store, f"Post-{n}", 1 + n % 4)
    # Recorded times chosen, never going back: runs of equal instants, gaps of an hour
    async with store.engine.begin() as conn:
        for position in range(1, 51):
            instant = BASE + timedelta(hours=position // 3, seconds=position // 2)
            await conn.execute(
                update(events).where(events.c.position == position).values(recorded_at=instant)
            )
    log = await recorded(store)

    probes = [BASE - US, BASE + timedelta(days=30)]
    probes += [t + d for _, t in log for d in (-US, timedelta(0), US, timedelta(minutes=30))]
    for at in probes:
        assert await position_at(store.engine, at) == last_recorded_by(log, at), at


async def test_positions_missing_from_the_log_are_stepped_over(store: SqlEventStore) -> None:
    await append(store, "Post-a", 10)
    async with store.engine.begin() as conn:
        for position in range(1, 11):
            await conn.execute(update(events).where(events.c.position == position)
                               .values(recorded_at=BASE + timedelta(minutes=position)))
        await conn.execute(delete(events).where(events.c.position.in_([1, 2, 5, 6, 7])))
    log = await recorded(store)

    for minute in range(0, 12):
        at = BASE + timedelta(minutes=minute, seconds=30)
        assert await position_at(store.engine, at) == last_recorded_by(log, at), minute


# --- through the API ----------------------------------------------------------------

POSITION_AT = "query($t: DateTime!) { positionAt(time: $t) }"
AS_OF = """query($at: Position) { posts(asOf: $at, first: 100) { edges { node { title } } } }"""


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(database_url, tmp_path) as world:
        yield world


async def titles_as_of_time(world: World, at: datetime) -> list[str]:
    position = (await world.data(POSITION_AT, None, t=at.isoformat()))["positionAt"]
    data = await world.data(AS_OF, None, at=position)
    return [e["node"]["title"] for e in data["posts"]["edges"]]


async def test_the_feed_as_of_a_time_shows_what_was_published_by_then(world: World) -> None:
    alice = await world.member("alice")
    await world.post(alice, "First")
    first_done = (await recorded(world.chronicle.store))[-1][1]
    outcome = await world.run(CreatePost("Second", "body", (), True), alice)
    second_at = next(t for p, t in await recorded(world.chronicle.store)
                     if p == outcome.position)

    assert await titles_as_of_time(world, first_done) == ["First"]
    assert await titles_as_of_time(world, second_at - US) == ["First"]
    assert await titles_as_of_time(world, second_at) == ["Second", "First"]


async def test_position_at_reads_offsets_and_answers_the_head_for_the_future(
    world: World,
) -> None:
    alice = await world.member("alice")
    await world.post(alice, "Now")
    head = await world.chronicle.store.head_position()
    later = datetime.now(UTC) + timedelta(days=1)

    for text in (later.isoformat(), later.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 later.astimezone(UTC).replace(tzinfo=None).isoformat() + "+09:30"):
        assert (await world.data(POSITION_AT, None, t=text))["positionAt"] == str(head), text
    assert (await world.data(POSITION_AT, None, t="1970-01-01T00:00:00+00:00")) == {
        "positionAt": "0"
    }


@pytest.mark.parametrize("text", [
    "yesterday", "", "2026-13-01T00:00:00+00:00", "2026-03-01T12:00:00",
    "2026-03-01T25:00:00Z", "1773000000",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",  # no UTC instant
])
async def test_a_malformed_time_is_bad_user_input(world: World, text: str) -> None:
    assert await world.error_code(POSITION_AT, None, t=text) == "BAD_USER_INPUT"


async def test_a_time_inline_in_the_document_is_checked_too(world: World) -> None:
    document = 'query { positionAt(time: "not a time") }'
    assert await world.error_code(document) == "BAD_USER_INPUT"
