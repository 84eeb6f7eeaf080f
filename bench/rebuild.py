"""Projection rebuild benchmark: a full rebuild of every projection over N events on SQLite.

    .venv/bin/python -m bench.rebuild [--events N] [--batch B] [--keep PATH]

Writes N realistic events (members, posts, edits, publications, comments,
likes and unlikes; most activity on recent posts, as readers see feeds newest
first) into a fresh SQLite store in large commits, then rebuilds
each projection from position 0 the way ``chronicle projections rebuild``
does (blue/green, from a process that is not serving), with a progress line,
and prints events/s. Target: >= 20 000 events/s for the whole rebuild.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from events.bus import Bus
from events.catalog import (
    CommentAdded,
    CommentDeleted,
    CommentEdited,
    DomainEvent,
    PostArchived,
    PostCreated,
    PostEdited,
    PostLiked,
    PostPublished,
    PostUnliked,
    ProfileUpdated,
    UserRegistered,
)
from events.db import create_engine, migrate
from events.model import ANY, Commit, StreamAppend
from events.store import SqlEventStore
from projections.runner import ProjectionRunner

COMMIT_EVENTS = 1000
RECENT_SHARE = 0.8
RECENT_WINDOW = 2000
"""80% of edits, comments and likes go to the 2 000 newest posts (or comments)."""
T = TypeVar("T")
TAGS = ("python", "sql", "events", "graphql", "design", "ops", "news", "web", "data", "ml")


class Community:
    """Generates a plausible history, a commit at a time: only what exists can be acted on."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.users: list[str] = []
        self.posts: list[str] = []
        self.comments: list[tuple[str, str]] = []
        self.likes: set[tuple[str, str]] = set()
        self.counter = 0

    def recent(self, items: list[T]) -> T:
        """Mostly among the newest: feeds show the newest posts, so that is where readers act."""
        if self.rng.random() < RECENT_SHARE:
            return items[-self.rng.randint(1, min(len(items), RECENT_WINDOW))]
        return self.rng.choice(items)

    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:08d}"

    def commit(self, size: int) -> list[tuple[str, DomainEvent]]:
        """About ``size`` events, each referring only to things from earlier commits."""
        rng, out = self.rng, []
        users, posts = list(self.users), list(self.posts)
        while len(out) < size:
            roll = rng.random()
            if roll < 0.02 or len(users) < 10:
                uid = self._id("u")
                out.append((f"user-{uid}", UserRegistered(
                    uid, f"member{uid[1:]}", f"{uid}@example.org", f"Member {uid}", "x"
                )))
                self.users.append(uid)
            elif roll < 0.03:
                uid = rng.choice(users)
                out.append((f"user-{uid}", ProfileUpdated(uid, bio="I write about things")))
            elif roll < 0.13 or len(posts) < 10:
                pid = self._id("p")
                tags = tuple(rng.sample(TAGS, rng.randint(0, 3)))
                body = "Lorem ipsum dolor sit amet. " * rng.randint(2, 20)
                created = PostCreated(pid, rng.choice(users), "A title", body, tags)
                out.append((f"post-{pid}", created))
                if rng.random() < 0.8:
                    out.append((f"post-{pid}", PostPublished(pid)))
                self.posts.append(pid)
            elif roll < 0.20:
                pid = self.recent(posts)
                out.append((f"post-{pid}", PostEdited(pid, title="An edited title")))
            elif roll < 0.21:
                out.append((f"post-{(pid := self.recent(posts))}", PostArchived(pid)))
            elif roll < 0.58:
                pid, cid = self.recent(posts), self._id("c")
                out.append((f"comment-{cid}", CommentAdded(cid, pid, rng.choice(users), "Nice!")))
                self.comments.append((cid, pid))
            elif roll < 0.62 and self.comments:
                cid, pid = self.recent(self.comments)
                event = CommentEdited(cid, pid, "Edited") if rng.random() < 0.5 else \
                    CommentDeleted(cid, pid)
                out.append((f"comment-{cid}", event))
            else:
                pair = (self.recent(posts), rng.choice(users))
                liked = pair in self.likes
                event = PostUnliked(*pair) if liked else PostLiked(*pair)
                (self.likes.discard if liked else self.likes.add)(pair)
                out.append((f"like-{pair[0]}-{pair[1]}", event))
        return out


def as_commit(events: list[tuple[str, DomainEvent]]) -> Commit:
    """One commit, one append per stream, streams in order of first appearance."""
    streams: dict[str, list[DomainEvent]] = {}
    for stream_id, event in events:
        streams.setdefault(stream_id, []).append(event)
    return Commit([
        StreamAppend(stream_id, evs[0].spec.stream_type, ANY, evs)
        for stream_id, evs in streams.items()
    ])


def commits(total: int) -> Iterator[Commit]:
    community = Community()
    written = 0
    while written < total:
        events = community.commit(min(COMMIT_EVENTS, total - written))
        written += len(events)
        yield as_commit(events)


def line(text: str) -> None:
    sys.stdout.write(f"\r{text:<78}")
    sys.stdout.flush()


async def write_log(store: SqlEventStore, total: int) -> int:
    started = time.perf_counter()
    pending: set[asyncio.Task[object]] = set()
    for commit in commits(total):
        # a few commits in flight let the store's group commit share transactions
        pending.add(asyncio.create_task(store.commit(commit)))
        if len(pending) >= 4:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            head = await store.head_position()
            line(f"writing: {head:>9}/{total} events")
    for task in pending:
        await task
    head = await store.head_position()
    elapsed = time.perf_counter() - started
    line(f"wrote {head} events in {elapsed:.1f}s ({head / elapsed:,.0f} events/s)")
    print()
    return head


async def rebuild_all(runner: ProjectionRunner, head: int) -> float:
    """Every projection at once, as the runner does when all of them need rebuilding."""
    started = time.perf_counter()
    done = dict.fromkeys(runner.names, 0)

    def progress_of(name: str) -> Callable[[int, int], None]:
        def progress(position: int, total: int) -> None:
            done[name] = position
            elapsed = max(time.perf_counter() - started, 1e-9)
            parts = "  ".join(f"{n} {100 * p / max(total, 1):5.1f}%" for n, p in done.items())
            line(f"rebuilding: {parts}  ({min(done.values()) / elapsed:,.0f} events/s)")
        return progress

    statuses = await asyncio.gather(*(runner.rebuild(n, progress_of(n)) for n in runner.names))
    elapsed = time.perf_counter() - started
    print()
    for status in statuses:
        print(f"  {status.name}: {status.state} at position {status.position}")
    return elapsed


@contextlib.asynccontextmanager
async def sqlite_log(database: Path) -> AsyncIterator[tuple[AsyncEngine, Bus, SqlEventStore]]:
    """A migrated SQLite log at ``database`` with an in-process bus, closed on the way out."""
    database.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{database}"
    await migrate(url)
    engine = create_engine(url)
    bus = Bus("memory://")
    await bus.connect()
    store = SqlEventStore(engine, bus=bus)
    await store.start()
    try:
        yield engine, bus, store
    finally:
        await store.close()
        await bus.disconnect()
        await engine.dispose()


async def main(total: int, batch: int, keep: str | None) -> None:
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="chronicle-bench-"))
    async with sqlite_log(folder / "bench.db") as (engine, bus, store):
        head = await store.head_position()
        if head < total:
            head = await write_log(store, total - head)
        runner = ProjectionRunner(
            engine, store, bus, batch_size=batch, rebuild_batch_size=batch, drop_grace=0.0
        )
        cpu, load = time.process_time(), os.getloadavg()
        elapsed = await rebuild_all(runner, head)
        cpu = time.process_time() - cpu
        rate = head / elapsed
        verdict = "meets" if rate >= 20_000 else "MISSES"
        print(f"full rebuild of {', '.join(runner.names)} ({batch} events per batch): "
              f"{head} events in {elapsed:.1f}s = "
              f"{rate:,.0f} events/s ({verdict} the 20 000 events/s target)")
        # On a shared machine the wall clock also counts other processes' turns.
        print(f"  process CPU time {cpu:.1f}s = {head / cpu:,.0f} events per CPU-second; "
              f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}")


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50000, help="events per rebuild batch")
    parser.add_argument("--keep", help="folder for the database (reused if it has events)")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.batch, args.keep))


if __name__ == "__main__":
    cli()
