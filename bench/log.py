"""Issue 2's log benchmark: Chronicle's event store beside the `eventsourcing` library.

Both do the same work on the same machine in the same run, on SQLite and on
PostgreSQL, each with its default durability (SQLite synchronous=FULL):

1. 10 000 single-event commits, each a new stream, issued by 32 concurrent
   callers (Chronicle: asyncio tasks sharing the group-committing writer;
   eventsourcing, which is synchronous: whichever of 32 threads or one
   sequential caller is faster for it, named in the table);
2. events/s appending batches of 100 events per commit (one caller);
3. loading one post with 1 000 events and no snapshots, and with 1 000 and
   10 000 events snapshotted every 100 (the second pair shows whether the
   snapshotted load grows with history), the two libraries taking turns load
   by load.

Run: ``.venv/bin/python -m bench.log [--quick] [--backend sqlite|postgres|all]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench._pg import fresh_pg_database, pg_url
from bench._report import count, environment, median, number, progress, table
from domain import post
from domain.repository import load
from events.catalog import DomainEvent, PostCreated, PostEdited
from events.db import create_engine, migrate
from events.model import NO_STREAM, Commit, ExpectedVersion, Snapshot, StreamAppend
from events.store import SqlEventStore

T = TypeVar("T")
CONCURRENCY = 32
BATCH = 100
SNAPSHOT_EVERY = 100
TITLE = "A title of a typical length, 40 chars.."
BODY = "Body text " * 30


@dataclass(frozen=True)
class Sizes:
    runs: int
    """Runs of each throughput figure; the median is reported."""
    single_commits: int
    batched_events: int
    loads: int
    """Loads timed per figure (after one warm-up); the median is reported."""


FULL = Sizes(runs=3, single_commits=10_000, batched_events=20_000, loads=61)
QUICK = Sizes(runs=1, single_commits=1_000, batched_events=2_000, loads=11)
HISTORIES = (1_000, 10_000)
"""Lengths of the snapshotted histories loaded; the unsnapshotted one is the first."""


@dataclass
class Figures:
    """One library's figures on one backend."""

    single_commits: float = 0.0
    """events/s"""
    batched: float = 0.0
    """events/s"""
    load_plain: float = 0.0
    """ms, 1 000 events, no snapshot"""
    load_snapshotted: dict[int, float] = field(default_factory=dict)
    """ms by history length, snapshots every 100"""
    note: str = ""


# --- databases ---------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    backend: str
    sqlite_dir: Path | None = None
    pg_name: str | None = None

    def chronicle_url(self) -> str:
        if self.sqlite_dir is not None:
            return f"sqlite+aiosqlite:///{self.sqlite_dir / 'chronicle.db'}"
        return pg_url(str(self.pg_name))

    def eventsourcing_env(self, purpose: str) -> dict[str, str]:
        if self.sqlite_dir is not None:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_dir / f"eventsourcing-{purpose}.db"),
            }
        # A schema per purpose keeps each measurement's tables apart, like the SQLite files.
        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={self.pg_name}") as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "es_{purpose}"')
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(self.pg_name),
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": "5432",
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "",
            "POSTGRES_SCHEMA": f"es_{purpose}",
        }


@contextmanager
def fresh_database(backend: str) -> Iterator[Database]:
    """A temp SQLite folder or a new PostgreSQL database, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="chronicle-bench-") as folder:
            yield Database(backend, sqlite_dir=Path(folder))
        return
    with fresh_pg_database("chronicle_bench") as name:
        yield Database(backend, pg_name=name)


def load_order(sizes: Sizes) -> list[tuple[int, bool]]:
    """(index of the post in [unsnapshotted, *snapshotted by HISTORIES], timed?) in the
    order both libraries load them; the first round of each phase is an untimed warm-up.

    The unsnapshotted history has a phase of its own: its memory traffic slowed
    whichever load came right after it, both libraries alike, so whichever
    snapshotted history followed it more often looked slower. The snapshotted
    ones go round-robin, so a busier moment of the machine weighs on them alike,
    every other round in the other order, so each follows each equally often.
    """
    order: list[tuple[int, bool]] = []
    for phase in ([0], list(range(1, 1 + len(HISTORIES)))):
        for round_ in range(sizes.loads + 1):
            shift = round_ % len(phase)
            order += [(index, round_ > 0) for index in phase[shift:] + phase[:shift]]
    return order


@contextmanager
def collector_off() -> Iterator[None]:
    """Around one timed load: no garbage collection lands in it, as timeit does it.

    Neither the garbage of the load timed before nor that of this one is
    collected while the clock runs; it is collected between loads, as usual.
    (A full gc.collect() right before each load served the same purpose but
    timed the refill of the CPU caches it had just swept, the whole process's
    heap, the other library's included: about 0.2-0.5 ms added to a load that
    takes 0.03-0.15 ms, which measured the harness more than either library.)
    """
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# --- eventsourcing -----------------------------------------------------------


class EsPost(Aggregate):
    @event("Created")
    def __init__(self, author_id: str, title: str, body: str, tags: list[str]) -> None:
        self.author_id = author_id
        self.title = title
        self.body = body
        self.tags = tags

    @event("Edited")
    def edit(self, title: str) -> None:
        self.title = title


class EsPosts(Application[uuid.UUID]):
    pass


class EsSnapshottedPosts(Application[uuid.UUID]):
    snapshotting_intervals = {EsPost: SNAPSHOT_EVERY}


def es_new_post() -> EsPost:
    return EsPost(author_id=str(uuid.uuid4()), title=TITLE, body=BODY, tags=["bench"])


def es_single_commits(database: Database, purpose: str, count: int, threads: int) -> float:
    """events/s saving one new aggregate per call, from ``threads`` threads (1 = sequential)."""
    app = EsPosts(env=database.eventsourcing_env(purpose))
    try:
        if threads == 1:
            seconds = timed(lambda: [app.save(es_new_post()) for _ in range(count)])
        else:
            with ThreadPoolExecutor(threads) as pool:
                seconds = timed(lambda: list(pool.map(lambda _: app.save(es_new_post()),
                                                      range(count))))
        return count / seconds
    finally:
        app.close()


def es_post_with_history(app: Application[uuid.UUID], length: int) -> uuid.UUID:
    """One post with ``length`` events, saved in commits of ``BATCH`` events."""
    post = es_new_post()
    for version in range(2, length + 1):
        post.edit(title=f"{TITLE} v{version}")
        if version % BATCH == 0:
            app.save(post)
    app.save(post)
    return post.id


def es_batches(database: Database, purpose: str, events: int) -> float:
    app = EsPosts(env=database.eventsourcing_env(purpose))
    try:
        seconds = timed(lambda: [es_post_with_history(app, BATCH) for _ in range(events // BATCH)])
        return events / seconds
    finally:
        app.close()


# --- Chronicle ---------------------------------------------------------------


def new_post_commit() -> Commit:
    post_id = str(uuid.uuid4())
    created = PostCreated(post_id, str(uuid.uuid4()), TITLE, BODY, ("bench",))
    return Commit(appends=[StreamAppend(post_id, post.STREAM_TYPE, NO_STREAM, [created])])


async def chronicle_single_commits(store: SqlEventStore, count: int) -> float:
    """events/s committing one new stream per call from ``CONCURRENCY`` tasks."""
    remaining = count

    async def caller() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await store.commit(new_post_commit())

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - started)


async def chronicle_post_with_history(
    store: SqlEventStore, length: int, *, snapshots: bool
) -> str:
    """One post with ``length`` events in commits of ``BATCH``, snapshotted every 100 if asked."""
    first = new_post_commit().appends[0]
    post_id, state, version = first.stream_id, post.AGGREGATE.initial, 0
    pending: list[DomainEvent] = list(first.events)
    while version < length:
        while len(pending) < min(BATCH, length - version):
            pending.append(PostEdited(post_id, title=f"{TITLE} v{version + len(pending) + 1}"))
        new_version = version + len(pending)
        snapshot = None
        if snapshots:  # a command folds its events only when it writes a snapshot
            state = post.AGGREGATE.fold(state, pending)
        if snapshots and new_version % SNAPSHOT_EVERY == 0:
            snapshot = Snapshot(post_id, new_version, post.AGGREGATE.to_snapshot(state),
                                post.AGGREGATE.snapshot_version)
        expected: ExpectedVersion = version or NO_STREAM
        await store.commit(Commit(appends=[
            StreamAppend(post_id, post.STREAM_TYPE, expected, pending, snapshot)
        ]))
        version, pending = new_version, []
    return post_id


async def chronicle_batches(store: SqlEventStore, events: int) -> float:
    started = time.perf_counter()
    for _ in range(events // BATCH):
        await chronicle_post_with_history(store, BATCH, snapshots=False)
    return events / (time.perf_counter() - started)


def run_as_served(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on the event loop the served app runs on: ``chronicle serve`` runs
    under uvicorn, whose default loop is uvloop whenever it is installed (it is,
    with ``uvicorn[standard]``), else asyncio's. eventsourcing is synchronous: no
    loop of its own to choose."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def with_store(database: Database, work: Callable[[SqlEventStore], Awaitable[T]]) -> T:
    """Run ``work`` against a started store with the defaults (synchronous=FULL on SQLite),
    on the served app's event loop (:func:`run_as_served`)."""

    async def run() -> T:
        url = database.chronicle_url()
        await migrate(url)
        engine = create_engine(url)
        store = SqlEventStore(engine)
        await store.start()
        try:
            return await work(store)
        finally:
            await store.close()
            await engine.dispose()

    return run_as_served(run())


def loads_side_by_side(
    mine: Database, library: Database, sizes: Sizes
) -> tuple[tuple[float, dict[int, float]], tuple[float, dict[int, float]]]:
    """ms to load the unsnapshotted post and each snapshotted one by history length,
    (Chronicle's, eventsourcing's): each library's own load (Chronicle's domain load,
    latest snapshot + the tail, folded; eventsourcing's repository.get).

    The two take turns load by load, in one process, the one going first changing
    every round: this machine's vCPUs swing between about 1x and 2x speed within
    seconds, so loads timed in two separate phases could each meet a different
    speed (seen: Chronicle's same load at 4.5 ms in one phase and 9.2 ms in the
    next). eventsourcing is synchronous: its load runs on the loop's thread
    between two of Chronicle's, with nothing else scheduled meanwhile.
    """
    plain = EsPosts(env=library.eventsourcing_env("plain"))
    snapshotted = EsSnapshottedPosts(env=library.eventsourcing_env("snapshotted"))
    theirs_posts: list[tuple[Application[uuid.UUID], uuid.UUID]] = [
        (plain, es_post_with_history(plain, HISTORIES[0]))
    ] + [(snapshotted, es_post_with_history(snapshotted, n)) for n in HISTORIES]
    lengths = [HISTORIES[0], *HISTORIES]

    async def work(store: SqlEventStore) -> tuple[list[float], list[float]]:
        ours_posts = [await chronicle_post_with_history(store, HISTORIES[0], snapshots=False)]
        ours_posts += [await chronicle_post_with_history(store, n, snapshots=True)
                       for n in HISTORIES]
        times: dict[str, list[list[float]]] = {"ours": [[] for _ in lengths],
                                               "theirs": [[] for _ in lengths]}

        async def ours(index: int) -> int:
            return (await load(store, post.AGGREGATE, ours_posts[index])).version

        async def theirs(index: int) -> int:
            app, post_id = theirs_posts[index]
            loaded: EsPost = app.repository.get(post_id)
            return int(loaded.version)

        loaders = {"ours": ours, "theirs": theirs}
        for turn, (index, timed_load) in enumerate(load_order(sizes)):
            for name in (("ours", "theirs") if turn % 2 else ("theirs", "ours")):
                with collector_off():
                    started = time.perf_counter()
                    version = await loaders[name](index)
                    elapsed = time.perf_counter() - started
                if timed_load:
                    times[name][index].append(elapsed)
                elif version != lengths[index]:
                    raise AssertionError(f"{name}: loaded version {version}, "
                                         f"expected {lengths[index]}")
        ms = {name: [1000 * median(taken) for taken in by_post]
              for name, by_post in times.items()}
        return ms["ours"], ms["theirs"]

    try:
        ours_ms, theirs_ms = with_store(mine, work)
    finally:
        plain.close()
        snapshotted.close()
    return ((ours_ms[0], dict(zip(HISTORIES, ours_ms[1:], strict=True))),
            (theirs_ms[0], dict(zip(HISTORIES, theirs_ms[1:], strict=True))))


# --- both, interleaved -----------------------------------------------------------
# Runs alternate between the libraries so that other work on a shared machine
# weighs on both alike, and the ratios stay meaningful when the figures move.


def measure(backend: str, sizes: Sizes) -> tuple[Figures, Figures]:
    ours, theirs = Figures(note="32 asyncio tasks"), Figures()
    with fresh_database(backend) as mine, fresh_database(backend) as library:
        # eventsourcing is synchronous: let it take 32 callers whichever way suits it best.
        trial = min(sizes.single_commits, 1_000)
        modes = {threads: es_single_commits(library, f"trial{threads}", trial, threads)
                 for threads in (CONCURRENCY, 1)}
        threads = max(modes, key=lambda t: modes[t])
        theirs.note = "32 threads" if threads > 1 else "sequential"
        progress(f"[{backend}] eventsourcing trial: " + ", ".join(
            f"{t} thread(s) {number(v, 'events/s')}" for t, v in modes.items()))

        runs: dict[str, list[float]] = {"ours": [], "theirs": []}
        for run in range(1, sizes.runs + 1):
            runs["ours"].append(with_store(
                mine, lambda store: chronicle_single_commits(store, sizes.single_commits)))
            runs["theirs"].append(
                es_single_commits(library, f"single{run}", sizes.single_commits, threads))
            progress(f"[{backend}] {sizes.single_commits} single-event commits, run {run}/"
                     f"{sizes.runs}: Chronicle {number(runs['ours'][-1], 'events/s')}, "
                     f"eventsourcing {number(runs['theirs'][-1], 'events/s')}")
        ours.single_commits, theirs.single_commits = median(runs["ours"]), median(runs["theirs"])

        runs = {"ours": [], "theirs": []}
        for run in range(1, sizes.runs + 1):
            runs["ours"].append(with_store(
                mine, lambda store: chronicle_batches(store, sizes.batched_events)))
            runs["theirs"].append(es_batches(library, f"batch{run}", sizes.batched_events))
            progress(f"[{backend}] batches of {BATCH}, run {run}/{sizes.runs}: Chronicle "
                     f"{number(runs['ours'][-1], 'events/s')}, eventsourcing "
                     f"{number(runs['theirs'][-1], 'events/s')}")
        ours.batched, theirs.batched = median(runs["ours"]), median(runs["theirs"])

        (ours.load_plain, ours.load_snapshotted), (theirs.load_plain, theirs.load_snapshotted) = (
            loads_side_by_side(mine, library, sizes))
        for name, figures in (("Chronicle", ours), ("eventsourcing", theirs)):
            snapshotted = ", ".join(f"{count(n)} events {number(ms, 'ms')}"
                                    for n, ms in figures.load_snapshotted.items())
            progress(f"[{backend}] {name} loads: {count(HISTORIES[0])} events "
                     f"{number(figures.load_plain, 'ms')}; snapshotted: {snapshotted}")
    return ours, theirs


# --- the table -----------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def rows_for(backend: str, chronicle: Figures, library: Figures, sizes: Sizes) -> list[list[str]]:
    def faster(ours: float, theirs: float) -> str:
        ratio = theirs / ours
        return f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"

    rows = []
    speedup = chronicle.single_commits / library.single_commits
    rows.append([
        f"{count(sizes.single_commits)} single-event commits, 32 callers", backend,
        number(chronicle.single_commits, "events/s"),
        f"{number(library.single_commits, 'events/s')} ({library.note})",
        f"{speedup:.2f}x", f"≥ 3x: {verdict(speedup >= 3)}",
    ])
    target = ""
    if backend == "sqlite":
        target = f"≥ 30 000 events/s: {verdict(chronicle.batched >= 30_000)}"
    rows.append([
        f"appends in batches of {BATCH}", backend, number(chronicle.batched, "events/s"),
        number(library.batched, "events/s"), f"{chronicle.batched / library.batched:.2f}x", target,
    ])
    ours, theirs = chronicle.load_plain, library.load_plain
    rows.append([
        f"load {count(HISTORIES[0])} events, no snapshot", backend, number(ours, "ms"),
        number(theirs, "ms"), faster(ours, theirs), f"≥ 5x faster: {verdict(theirs >= 5 * ours)}",
    ])
    for length in HISTORIES:
        ours, theirs = chronicle.load_snapshotted[length], library.load_snapshotted[length]
        rows.append([
            f"load {count(length)} events, snapshot every {SNAPSHOT_EVERY}", backend,
            number(ours, "ms"), number(theirs, "ms"), faster(ours, theirs),
            f"≥ 5x faster: {verdict(theirs >= 5 * ours)}",
        ])
    return rows


def growth_line(backend: str, chronicle: Figures, library: Figures) -> str:
    short, long = HISTORIES

    def growth(figures: Figures) -> str:
        return f"x{figures.load_snapshotted[long] / figures.load_snapshotted[short]:.2f}"

    return (f"{backend}: snapshotted load at {count(long)} vs {count(short)} events: Chronicle "
            f"{growth(chronicle)}, eventsourcing {growth(library)} (≈1 = independent of history)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (one run each)")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    backends = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]

    rows, growth = [], []
    for backend in backends:
        chronicle, library = measure(backend, sizes)
        rows += rows_for(backend, chronicle, library, sizes)
        growth.append(growth_line(backend, chronicle, library))

    print("# Chronicle's log beside eventsourcing" + (" (--quick)" if args.quick else ""))
    print()
    for line in environment("chronicle", "eventsourcing", "sqlalchemy", "aiosqlite", "asyncpg",
                            "psycopg"):
        print(f"- {line}")
    print(f"- durability: each library's default (SQLite synchronous=FULL); throughput is the "
          f"median of {sizes.runs} run(s), loads the median of {sizes.loads} after a warm-up, "
          f"each timed with the garbage collector off (as timeit does)")
    print()
    print(table(["figure", "backend", "Chronicle", "eventsourcing", "Chronicle vs eventsourcing",
                 "target"], rows))
    print()
    for line in growth:
        print(f"- {line}")


if __name__ == "__main__":
    main()
