"""Issue 10's failover figure: ``kill -9`` of the projections' owner, writes going on.

Two ``chronicle serve`` processes on one fresh PostgreSQL database (dropped
afterwards) with Redis as the bus, the same secret key: one owns the
projections (a PostgreSQL session advisory lock, ``projections/advisory.py``),
the other follows them. Published posts (``createPost``) go through the
survivor-to-be at a steady rate (``--rate``, 10/s) the whole time. Each round:

1. find the owner of the ``posts`` projection (the backend holding its advisory
   lock, mapped to the server process whose socket it talks to); the other
   server is the survivor, and the writes go through it;
2. note the ``posts`` position the survivor reports (``/metrics``,
   ``chronicle_projection_position``), ``kill -9`` the owner, then poll the
   survivor every ``--poll`` seconds (20 ms) until that position moves past
   what it was: that instant minus the kill is the failover time. A move that
   is the dead owner's last batch (its checkpoint was written before the kill,
   the survivor only saw it late) does not count: the position it reached
   becomes the one to move past. Beside it, read from the database every
   10 ms on a connection of its own: the kill to another session holding the
   lock (PostgreSQL ended the dead owner's session and the survivor claimed
   it), and the kill to the start of the survivor's first batch (the
   checkpoint row's ``updated_at``, set by the batch transaction's first
   statement, before its rows are written and committed; one clock, one
   machine), which do not depend on how fast the busy survivor answers its
   polls;
3. watch the writes for ``--after`` seconds after the kill: the slowest one
   answered after the kill (in flight at the kill or begun after it), how many
   took longer than ``--slow`` (2 s) and how many failed (must be 0);
4. restart the killed server (it comes back as a follower) and wait until
   both report every projection LIVE (``/readyz``). The next round kills the
   new owner, so the roles alternate.

At the end the writes stop, every post created is looked for in the survivor's
``posts``, then ``users`` and ``posts`` are rebuilt (``rebuildProjection``) and
the read model must equal what it was before the rebuild (as
tests/e2e/test_failover.py checks).

Both servers and this load generator share the machine's cores: nothing is pinned.

Run: ``make bench-failover`` or ``.venv/bin/python -m bench.failover [--quick] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
from redis import asyncio as aioredis

from bench._pg import fresh_pg_database, pg_url
from bench._report import environment, median, progress, table
from bench.http import BIN, REGISTER, free_port, post_input
from events.bus import EVENTS_CHANNEL, PROJECTIONS_CHANNEL
from projections.advisory import LOCK_CLASS, lock_key

DISTRIBUTIONS = ("strawberry-graphql", "uvicorn", "sqlalchemy", "asyncpg", "redis")
REDIS_URL = os.environ.get("CHRONICLE_BENCH_REDIS", "redis://127.0.0.1:6379")
PROJECTION = "posts"
STARTUP_TIMEOUT = 90.0
TAKEOVER_TIMEOUT = 30.0
"""Longest wait for the survivor's position to move before the round counts as failed."""
DB_POLL = 0.01
"""Seconds between two reads of the checkpoint row (its ``updated_at``) after a kill."""

CREATE_POST = """mutation C($input: CreatePostInput!) {
  createPost(input: $input) { post { id } position } }"""
ROLE = "{ me { role } }"
REBUILD = "mutation R($name: String!) { rebuildProjection(name: $name) { state } }"
PROJECTIONS = "{ projections { name state position lag } }"
FEED = """query F($after: String) { posts(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id title status commentCount likeCount author { id username postCount } } } } }"""
POSITION_LINE = re.compile(
    r'^chronicle_projection_position\{projection="(?P<name>[^"]+)"\} (?P<value>\S+)$', re.M
)
CHECKPOINT = """SELECT c.updated_at FROM projection_checkpoints c
  JOIN projection_live l ON l.name = c.name AND l.generation = c.generation
  WHERE c.name = $1"""
LOCK_HOLDERS = """SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2
    AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database
                                          WHERE datname = current_database())"""


# --- servers -----------------------------------------------------------------------


@dataclass
class Server:
    name: str
    env: dict[str, str]
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def spawn(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.log is None:
            self.log = (self.folder / "server.log").open("ab")
        command = [str(BIN / "chronicle"), "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--data-dir", str(self.folder / "data")]
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    async def ready(self, client: httpx.AsyncClient, within: float = STARTUP_TIMEOUT) -> None:
        """Until /readyz says 200: the database answers and every projection is LIVE."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SystemExit(f"server {self.name} exited:\n{self.tail()}")
            try:
                if (await client.get(f"{self.base}/readyz", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        raise SystemExit(f"server {self.name} not ready in {within:g} s:\n{self.tail()}")

    def kill9(self) -> float:
        """SIGKILL (no shutdown, no unlock); the ``time.monotonic()`` right after it."""
        assert self.process is not None
        self.process.kill()
        return time.monotonic()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()
            self.log = None

    def tail(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process ``pid`` has open (its /proc/PID/fd links)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def local_port_inodes(port: int) -> set[int]:
    """Inodes of the TCP sockets on this machine whose local port is ``port``."""
    found = set()
    for table_path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table_path).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(int(fields[9]))
    return found


async def lock_ports(db: asyncpg.Connection, name: str = PROJECTION) -> set[int]:
    """Client ports of the sessions holding ``name``'s advisory lock (one, or none)."""
    key = lock_key(name) & 0xFFFFFFFF  # pg_locks shows the int4 halves as unsigned oids
    return {row[0] for row in await db.fetch(LOCK_HOLDERS, LOCK_CLASS, key)}


async def owner(db: asyncpg.Connection, servers: list[Server], name: str) -> Server | None:
    """The server whose session holds ``name``'s advisory lock, or None if nobody's does.

    pg_locks names the holding backend, pg_stat_activity its client's port, and the
    server with a socket bound to that port (its /proc/PID/fd) is the owner."""
    for port in await lock_ports(db, name):
        inodes = local_port_inodes(port)
        for server in servers:
            if server.process is not None and server.process.poll() is None \
                    and inodes & socket_inodes(server.pid):
                return server
    return None


# --- the API -------------------------------------------------------------------------


class Api:
    """GraphQL over HTTP, one connection pool per server."""

    def __init__(self) -> None:
        # Idle connections are dropped well before uvicorn's 5 s keep-alive (bench/http.py).
        limits = httpx.Limits(max_connections=64, keepalive_expiry=1.0)
        self.client = httpx.AsyncClient(timeout=60, limits=limits)

    async def __call__(self, server: Server, query: str, variables: dict[str, Any] | None = None,
                       token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = await self.client.post(f"{server.base}/graphql", headers=headers,
                                        json={"query": query, "variables": variables})
        payload = answer.json()
        if payload.get("errors"):
            raise RuntimeError(f"{payload['errors'][0].get('extensions', {}).get('code')}: "
                               f"{payload['errors'][0].get('message')}")
        return dict(payload["data"])

    async def member(self, server: Server, name: str) -> str:
        data = await self(server, REGISTER, {"input": {
            "username": name, "email": f"{name}@bench.example", "password": "bench password 1"}})
        return str(data["register"]["token"])

    async def position(self, server: Server, name: str = PROJECTION) -> int:
        """The projection's position as ``server`` reports it on /metrics (read afresh
        from the database when it follows)."""
        answer = await self.client.get(f"{server.base}/metrics", timeout=10)
        answer.raise_for_status()
        for match in POSITION_LINE.finditer(answer.text):
            if match["name"] == name:
                return int(float(match["value"]))
        raise RuntimeError(f"/metrics of {server.name} has no position for {name}")

    async def all_posts(self, server: Server, token: str) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            page = (await self(server, FEED, {"after": after}, token))["posts"]
            nodes += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return nodes
            after = page["pageInfo"]["endCursor"]


# --- the writes ----------------------------------------------------------------------


@dataclass
class Write:
    began: float
    ended: float = 0.0
    server: str = ""
    post_id: str | None = None
    error: str | None = None


class Writer:
    """``createPost`` (published) at a steady rate through ``target``, open loop: each write
    starts on schedule whether or not the ones before it have been answered."""

    def __init__(self, api: Api, token: str, rate: float, target: Server) -> None:
        self.api, self.token, self.rate, self.target = api, token, rate, target
        self.writes: list[Write] = []
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        started = time.monotonic()
        i = 0
        while not self._stop.is_set():
            i += 1
            task = asyncio.create_task(self._one(i))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            await asyncio.sleep(max(0.0, started + i / self.rate - time.monotonic()))
        await asyncio.gather(*list(self._tasks))

    async def stop(self) -> None:
        self._stop.set()

    async def _one(self, i: int) -> None:
        write = Write(began=time.monotonic(), server=self.target.name)
        self.writes.append(write)
        try:
            data = await self.api(self.target, CREATE_POST, post_input(i), self.token)
            write.post_id = str(data["createPost"]["post"]["id"])
        except (RuntimeError, httpx.HTTPError, ValueError) as error:
            write.error = f"{type(error).__name__}: {error}"[:200]
        write.ended = time.monotonic()


# --- one round -----------------------------------------------------------------------


@dataclass
class Round:
    number: int
    killed: str
    survivor: str
    failover: float | None = None
    """Seconds from the kill to the survivor's first report of a moved position."""
    lock_taken: float | None = None
    """Seconds from the kill to another session holding the projection's lock (PostgreSQL
    ended the dead owner's session, and the survivor claimed the lock)."""
    checkpoint: float | None = None
    """Seconds from the kill to the start of the survivor's first batch: the ``updated_at``
    of its first checkpoint move, which ``projections.bookkeeping.advance`` sets as the
    first statement of the batch's transaction (before the rows and the commit). Read
    from the database every ``DB_POLL`` seconds: independent of how fast the survivor
    answers its polls."""
    late_batch: bool = False
    """The dead owner's last batch reached the survivor's view after the kill."""
    new_owner: str = "?"
    answered: int = 0
    slowest: float = 0.0
    slow: int = 0
    failed: int = 0
    polls: list[float] = field(default_factory=list)
    """Round trips of the survivor's polls until the move (seconds)."""


async def checkpoint_written(db: asyncpg.Connection) -> datetime:
    """When the projection's live checkpoint was last moved (the applier's clock: this
    machine's)."""
    written = await db.fetchval(CHECKPOINT, PROJECTION)
    assert isinstance(written, datetime)
    return written


@dataclass
class Takeover:
    """The survivor's takeover as the database shows it, read on a connection of the
    harness's own every ``DB_POLL`` seconds."""

    lock_taken: float | None = None
    """``time.monotonic()`` when a session other than the dead owner's first held the lock."""
    first_move: datetime | None = None
    """The ``updated_at`` of the first checkpoint move after the kill: when that batch's
    transaction began (the row keeps only the latest: two moves within one poll would
    show the second)."""


async def watch_takeover(watch: asyncpg.Connection, since: datetime, dead: set[int]
                         ) -> Takeover:
    seen = Takeover()
    deadline = time.monotonic() + TAKEOVER_TIMEOUT
    while time.monotonic() < deadline and (seen.lock_taken is None or seen.first_move is None):
        if seen.lock_taken is None and await lock_ports(watch) - dead:
            seen.lock_taken = time.monotonic()
        if seen.first_move is None:
            written = await checkpoint_written(watch)
            if written >= since:
                seen.first_move = written
        await asyncio.sleep(DB_POLL)
    return seen


async def one_round(number: int, servers: list[Server], api: Api, writer: Writer,
                    db: asyncpg.Connection, watch: asyncpg.Connection,
                    args: argparse.Namespace) -> Round:
    killed = await owner(db, servers, PROJECTION)
    if killed is None:
        raise SystemExit(f"round {number}: nobody holds the {PROJECTION} projection's lock")
    users_owner = await owner(db, servers, "users")
    survivor = next(s for s in servers if s is not killed)
    if writer.target is not survivor:
        writer.target = survivor
        progress(f"round {number}: writes now go through {survivor.name}; settling "
                 f"{args.settle:g} s")
        await asyncio.sleep(args.settle)
    result = Round(number, killed.name, survivor.name)
    progress(f"round {number}: owner {killed.name} (pid {killed.pid}; users owned by "
             f"{users_owner.name if users_owner else 'nobody'}), survivor {survivor.name}")

    dead = await lock_ports(db)
    before = await api.position(survivor)
    killed_wall = datetime.now(UTC)
    killed_at = killed.kill9()
    takeover = asyncio.create_task(watch_takeover(watch, killed_wall, dead))
    await asyncio.to_thread(killed.process.wait)  # type: ignore[union-attr]
    while time.monotonic() - killed_at < TAKEOVER_TIMEOUT:
        await asyncio.sleep(args.poll)
        asked = time.monotonic()
        seen = await api.position(survivor)
        result.polls.append(time.monotonic() - asked)
        if seen <= before:
            continue
        answered_at = time.monotonic()
        written = await checkpoint_written(db)
        if written < killed_wall:
            # The latest checkpoint is the owner's, written before it died: the survivor
            # only saw it now (the checkpoint only moves forward, so seen <= position).
            result.late_batch = True
            progress(f"round {number}: position {seen} was the dead owner's last batch "
                     f"(checkpoint written {(killed_wall - written).total_seconds() * 1000:.0f} "
                     "ms before the kill); waiting for a move past it")
            before = seen
            continue
        result.failover = answered_at - killed_at
        break
    in_db = await takeover
    if in_db.lock_taken is not None:
        result.lock_taken = in_db.lock_taken - killed_at
    if in_db.first_move is not None:
        result.checkpoint = (in_db.first_move - killed_wall).total_seconds()
    new_owner = await owner(db, servers, PROJECTION)
    result.new_owner = new_owner.name if new_owner else "nobody"
    shown = f"{result.failover * 1000:.0f} ms" if result.failover is not None else "NONE"
    progress(f"round {number}: survivor's {PROJECTION} position moved {shown} after the kill "
             f"({len(result.polls)} polls); lock now held by {result.new_owner}")

    await asyncio.sleep(max(0.0, killed_at + args.after - time.monotonic()))
    after_kill = [w for w in writer.writes if w.ended > killed_at
                  or (w.ended == 0.0 and w.began <= killed_at + args.after)]
    now = time.monotonic()
    waits = [(w.ended or now) - w.began for w in after_kill]
    result.answered = sum(1 for w in after_kill if w.ended)
    result.slowest = max(waits, default=0.0)
    result.slow = sum(1 for wait in waits if wait > args.slow)
    result.failed = sum(1 for w in after_kill if w.error)
    for w in after_kill:
        if w.error:
            progress(f"round {number}: a write failed: {w.error}")
    progress(f"round {number}: {result.answered} writes answered in the {args.after:g} s after "
             f"the kill, slowest {result.slowest * 1000:.0f} ms, {result.failed} failed; "
             f"restarting {killed.name}")

    killed.spawn()
    await asyncio.gather(*(s.ready(api.client) for s in servers))
    progress(f"round {number}: {killed.name} is back (pid {killed.pid}); all LIVE on both")
    return result


# --- the run -------------------------------------------------------------------------


@dataclass
class Check:
    created: int = 0
    missing: int = 0
    total_count: int = 0
    equal_to_rebuild: bool = False
    failed_overall: int = 0
    first_failure: str | None = None


async def until_live(api: Api, server: Server, token: str) -> None:
    async with asyncio.timeout(120):
        while True:
            statuses = (await api(server, PROJECTIONS, token=token))["projections"]
            if all(s["state"] == "LIVE" and s["lag"] == 0 for s in statuses):
                return
            await asyncio.sleep(0.2)


async def promote(server: Server, username: str, api: Api, token: str) -> None:
    done = await asyncio.to_thread(
        subprocess.run, [str(BIN / "chronicle"), "promote", username], env=server.env,
        capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"chronicle promote failed: {done.stderr}")
    async with asyncio.timeout(60):
        while True:
            if (await api(server, ROLE, token=token))["me"]["role"] == "ADMIN":
                return
            await asyncio.sleep(0.2)


async def run(servers: list[Server], database: str, args: argparse.Namespace
              ) -> tuple[list[Round], Check]:
    api = Api()
    db = await asyncpg.connect(pg_url(database, "postgresql"))
    watch = await asyncpg.connect(pg_url(database, "postgresql"))
    try:
        for server in servers:  # one after the other: the first up claims the projections
            server.spawn()
            await server.ready(api.client)
            progress(f"server {server.name} ready on port {server.port} (pid {server.pid})")
        first = servers[0]
        suffix = uuid.uuid4().hex[:6]
        author = await api.member(first, f"bench_author_{suffix}")
        admin_name = f"bench_admin_{suffix}"
        admin = await api.member(first, admin_name)
        await promote(first, admin_name, api, admin)
        progress("members registered, the admin promoted")

        killed = await owner(db, servers, PROJECTION)
        survivor = next(s for s in servers if s is not killed)
        writer = Writer(api, author, args.rate, survivor)
        writing = asyncio.create_task(writer.run())
        progress(f"writing {args.rate:g} createPost/s through {survivor.name}; "
                 f"warming up {args.settle:g} s")
        await asyncio.sleep(args.settle)
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(await one_round(number, servers, api, writer, db, watch, args))
        await asyncio.sleep(1)
        await writer.stop()
        await writing
        check = await verify(api, writer, servers, admin)
        return rounds, check
    finally:
        await db.close()
        await watch.close()
        await api.client.aclose()


async def verify(api: Api, writer: Writer, servers: list[Server], admin: str) -> Check:
    """Every created post is served; the read model equals a rebuild of it."""
    check = Check()
    created = {w.post_id for w in writer.writes if w.post_id}
    failed = [w for w in writer.writes if w.error]
    check.created, check.failed_overall = len(created), len(failed)
    check.first_failure = failed[0].error if failed else None
    server = writer.target
    progress(f"writes stopped: {len(created)} posts created, {len(failed)} writes failed; "
             f"reading every post from {server.name}")
    await until_live(api, server, admin)
    served = await api.all_posts(server, admin)
    check.total_count = len(served)
    check.missing = len(created - {node["id"] for node in served})
    progress(f"{len(served)} posts served, {check.missing} created ones missing; rebuilding "
             "users and posts")
    for name in ("users", "posts"):
        await api(server, REBUILD, {"name": name}, admin)
    await until_live(api, server, admin)
    rebuilt = await api.all_posts(server, admin)
    check.equal_to_rebuild = rebuilt == served
    others = [s for s in servers if s is not server]
    for other in others:  # the other server serves the rebuilt read model too
        await until_live(api, other, admin)
        check.equal_to_rebuild = check.equal_to_rebuild and (
            await api.all_posts(other, admin)) == served
    progress(f"read model {'equals' if check.equal_to_rebuild else 'DIFFERS FROM'} "
             "its rebuild, on both servers")
    return check


async def other_subscribers() -> str:
    """Subscribers of Chronicle's bus channels on this Redis before our servers start:
    another run's servers there would share (and wake) ours."""
    client = aioredis.from_url(REDIS_URL)
    try:
        counts = await client.pubsub_numsub(EVENTS_CHANNEL, PROJECTIONS_CHANNEL)
    finally:
        await client.aclose()
    return ", ".join(f"{channel.decode() if isinstance(channel, bytes) else channel} {n}"
                     for channel, n in counts)


# --- the report ----------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    return "none" if seconds is None else f"{seconds * 1000:.0f} ms"


def report(rounds: list[Round], check: Check, args: argparse.Namespace, bus: str) -> None:
    rows = [[
        str(r.number), f"{r.killed} → {r.survivor}", ms(r.failover), ms(r.lock_taken),
        ms(r.checkpoint),
        ms(median(r.polls)) if r.polls else "none", r.new_owner, str(r.answered),
        ms(r.slowest), str(r.slow), str(r.failed),
    ] for r in rounds]
    failovers = [r.failover for r in rounds if r.failover is not None]
    locks = [r.lock_taken for r in rounds if r.lock_taken is not None]
    checkpoints = [r.checkpoint for r in rounds if r.checkpoint is not None]
    slowest = [r.slowest for r in rounds]
    polls = [poll for r in rounds for poll in r.polls]
    missed = len(rounds) - len(failovers)
    for label, pick in (("median", median), ("max", max)):
        rows.append([
            label, "", ms(pick(failovers)) if failovers else "none",
            ms(pick(locks)) if locks else "none",
            ms(pick(checkpoints)) if checkpoints else "none",
            ms(pick(polls)) if polls else "none", "", "",
            ms(pick(slowest)), str(sum(r.slow for r in rounds)) if label == "max" else "",
            str(sum(r.failed for r in rounds)) if label == "max" else "",
        ])
    target = max(failovers, default=float("inf")) < args.target and not missed
    print(f"\nFailover on PostgreSQL + Redis, two `chronicle serve` and this load generator "
          f"sharing {os.cpu_count()} CPUs (nothing pinned); createPost at {args.rate:g}/s "
          f"through the survivor; survivor polled every {args.poll * 1000:g} ms; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    for line in environment(*DISTRIBUTIONS):
        print(f"- {line}")
    print(f"- Redis subscribers of Chronicle's channels before the servers started: {bus}")
    print()
    print(table(["round", "killed → survivor", "kill → survivor's position moved",
                 "kill → lock taken (DB)", "kill → its first batch began (DB)",
                 "poll round trip", "lock held by", "writes answered", "slowest write",
                 f"writes > {args.slow:g} s", "failed writes"], rows))
    print()
    print(f"- failover under {args.target:g} s in every round: {'met' if target else 'MISSED'}"
          + (f" ({missed} round(s) saw no move within {TAKEOVER_TIMEOUT:g} s)" if missed else ""))
    late = sum(r.late_batch for r in rounds)
    if late:
        print(f"- in {late} round(s) the survivor first showed the dead owner's last batch "
              "(written before the kill): not counted as the failover")
    print(f"- writes: {check.created} posts created, {check.failed_overall} failed over the "
          f"whole run" + (f" (first: {check.first_failure})" if check.first_failure else ""))
    print(f"- read model: {check.total_count} posts served, {check.missing} created ones "
          f"missing; equal to a rebuild of users and posts: "
          f"{'yes' if check.equal_to_rebuild else 'NO'}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds")
    parser.add_argument("--rounds", type=int, help="default 5 (2 with --quick)")
    parser.add_argument("--rate", type=float, default=10.0, help="createPost per second")
    parser.add_argument("--poll", type=float, default=0.02,
                        help="seconds between two polls of the survivor's position")
    parser.add_argument("--after", type=float, default=5.0,
                        help="seconds of writes watched after each kill")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds of steady writes before a kill when the survivor changes")
    parser.add_argument("--slow", type=float, default=2.0,
                        help="a write answered after the kill taking longer counts as slow")
    parser.add_argument("--target", type=float, default=2.0, help="failover target, seconds")
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    return args


def main() -> None:
    args = parse_args()
    for line in environment(*DISTRIBUTIONS):
        progress(line)
    bus = asyncio.run(other_subscribers())
    progress(f"Redis subscribers of Chronicle's channels before we start: {bus}")
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-failover-")))
        database = stack.enter_context(fresh_pg_database("chronicle_failover"))
        progress(f"database {database}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHRONICLE_")}
        env |= {
            "CHRONICLE_DATABASE_URL": pg_url(database),
            "CHRONICLE_BROADCAST_URL": REDIS_URL,
            "CHRONICLE_SECRET_KEY": uuid.uuid4().hex * 2,
            "CHRONICLE_ACCESS_LOG": "false",
            # argon2id at a bench cost, and no quotas: the harness is one client address
            "CHRONICLE_ARGON2_TIME_COST": "1", "CHRONICLE_ARGON2_MEMORY_COST_KIB": "1024",
            "CHRONICLE_COST_BUDGET_PER_MINUTE": "0", "CHRONICLE_REGISTRATIONS_PER_WINDOW": "0",
        }
        servers = [Server("a", env, work / "a"), Server("b", env, work / "b")]
        for server in servers:
            stack.callback(server.stop)
        rounds, check = asyncio.run(run(servers, database, args))
    report(rounds, check, args, bus)


if __name__ == "__main__":
    main()
