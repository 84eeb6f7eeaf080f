"""Issues 3 and 13's HTTP benchmark: Chronicle's API beside the plain CRUD baseline.

Four servers on loopback, each one process: ``chronicle serve`` twice on fresh
data folders (embedded SQLite, in-process bus), with its response cache off
and on; ``bench.crud_app`` on a fresh SQLite file; and ``bench.plain_app``,
plain Starlette sending the feed's answer as a fixed body (the ceiling for a
cached answer). The first three are seeded through their own API (members
registered, published posts created), then wrk drives each with 32 connections:

1. ``createPost`` mutations/s (each request a new published post, the tokens
   of the seeded members taking turns), with p50/p99 latency;
2. ``posts(first: 20)`` with author, comment and like counts, queries/s, as
   the members and anonymously (the feed reads nobody's identity, so the
   members share one cached answer and anonymous callers another);
3. a 90/10 mix: every tenth request of each connection a ``createPost``.

Every request's answer is checked (HTTP 200 and no ``errors``): failures are
counted in the table, never silently folded into the throughput. Rounds
alternate between the servers, so load from anything else on the machine
falls on both alike; each figure is the median over the rounds, each round
measured after a warm-up. Targets: cache off / CRUD createPost >= 1.0x, reads
>= 1.2x; cache on: the hot feed >= 0.5x plain Starlette, the mix >= 3x CRUD.
If ``bench/rebuild.py`` exists, its projection rebuild figure is printed too.

Run: ``make bench-http`` or ``.venv/bin/python -m bench.http [--quick]``.
The load generator is wrk (Debian: ``apt-get install -y wrk``) when installed,
else a bounded httpx client in a separate process (``--client python``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import httpx

from bench._http_load import (
    Figure,
    median_figure,
    run_python_client,
    run_wrk,
    write_wrk_script,
)
from bench._report import environment, number, progress, table

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = ("strawberry-graphql", "uvicorn", "sqlalchemy", "aiosqlite")
BIN = Path(sys.executable).parent

CREATE_POST = """mutation CreatePost($input: CreatePostInput!) {
  createPost(input: $input) { post { id title } }
}"""
FEED = """query Feed {
  posts(first: 20) {
    edges { node { author { username displayName } commentCount likeCount title } }
  }
}"""
REGISTER = """mutation Register($input: RegisterInput!) {
  register(input: $input) { token }
}"""
POST_BODY = (
    "Event sourcing keeps every change as a fact; the read model is what the "
    "facts add up to. This post exists to be written and read in a benchmark. "
) * 3

@dataclass
class Server:
    name: str
    url: str
    pid: int
    tokens: list[str]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux's /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(name: str, command: list[str], port: int, env: dict[str, str],
            log: IO[str]) -> Iterator[tuple[str, int]]:
    """Run a server process until the block ends; yield its /graphql URL and pid once it answers."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        wait_until_answering(name, url, process)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_answering(name: str, url: str, process: subprocess.Popen[bytes],
                         timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode} before answering")
        try:
            answer = httpx.post(url, json={"query": "{ __typename }"}, timeout=2)
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{name} did not answer at {url} within {timeout:.0f} s")


async def seed(name: str, url: str, members: int, posts: int, connections: int) -> list[str]:
    """Register members and create published posts through the API; return the tokens."""
    # Idle connections are dropped well before uvicorn's 5 s keep-alive timeout: reusing
    # one the server is closing fails with ReadError (seen while argon2 kept a loaded
    # machine busy for seconds).
    limits = httpx.Limits(max_connections=connections, keepalive_expiry=1.0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        gate = asyncio.Semaphore(connections)

        async def call(query: str, variables: dict[str, Any], token: str | None = None) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with gate:
                answer = await client.post(
                    url, json={"query": query, "variables": variables}, headers=headers
                )
            payload = answer.json()
            if answer.status_code != 200 or payload.get("errors"):
                raise SystemExit(f"{name}: seeding failed: {answer.status_code} {payload}")
            return payload["data"]

        registered = await asyncio.gather(*(
            call(REGISTER, {"input": {
                "username": f"bench_member_{i}", "email": f"member{i}@bench.example",
                "password": f"bench password {i:04d}", "displayName": f"Bench Member {i}",
            }})
            for i in range(members)
        ))
        tokens = [str(data["register"]["token"]) for data in registered]
        progress(f"{name}: {members} members registered, creating {posts} posts")
        await asyncio.gather(*(
            call(CREATE_POST, post_input(i), tokens[i % len(tokens)]) for i in range(posts)
        ))
    return tokens


def post_input(i: int) -> dict[str, Any]:
    return {"input": {"title": f"Bench post {i}", "body": POST_BODY,
                      "tags": ["bench", f"t{i % 7}"], "publish": True}}


def load(server: Server, operation: Operation, round_: int, args: argparse.Namespace,
         seconds: float, script: Path) -> Figure:
    before = cpu_seconds(server.pid)
    body = operation.body(round_)
    tokens = [] if operation.anonymous else server.tokens
    if args.client == "wrk":
        write = (create_post_request(round_), operation.write_every) if operation.write_every \
            else None
        figure = run_wrk(server.url, body, tokens, connections=args.connections,
                         seconds=seconds, max_requests=args.max_requests, script=script,
                         write=write)
    else:
        if operation.write_every:
            raise SystemExit("the read/write mix needs wrk (apt-get install -y wrk)")
        figure = run_python_client(server.url, body, tokens,
                                   connections=args.connections, seconds=seconds,
                                   max_requests=args.max_requests)
    after = cpu_seconds(server.pid)
    if before is None or after is None or figure.requests == 0:
        return figure
    return replace(figure, cpu_ms=(after - before) * 1000 / figure.requests)


def create_post_request(round_: int) -> dict[str, Any]:
    return {"query": CREATE_POST, "variables": post_input(round_), "operationName": "CreatePost"}


def feed_request(_round: int) -> dict[str, Any]:
    return {"query": FEED, "operationName": "Feed"}


@dataclass(frozen=True)
class Operation:
    body: Callable[[int], dict[str, Any]]
    anonymous: bool = False
    write_every: int = 0
    """Every n-th request of a connection is a createPost instead (0: none)."""
    reads_only: bool = True
    """Plain Starlette answers it too (it only knows the feed's answer)."""


OPERATIONS: dict[str, Operation] = {
    "createPost": Operation(create_post_request, reads_only=False),
    "posts(first:20)": Operation(feed_request),
    "posts(first:20) anonymous": Operation(feed_request, anonymous=True),
    "90/10 read/write mix": Operation(feed_request, write_every=10, reads_only=False),
}
CRUD, OFF, ON, PLAIN = "CRUD", "Chronicle cache off", "Chronicle cache on", "plain Starlette"
TARGETS = [  # (operation, server, baseline, target)
    ("createPost", OFF, CRUD, 1.0),
    ("posts(first:20)", OFF, CRUD, 1.2),
    ("posts(first:20)", ON, PLAIN, 0.5),
    ("posts(first:20) anonymous", ON, PLAIN, 0.5),
    ("90/10 read/write mix", ON, CRUD, 3.0),
    ("90/10 read/write mix", OFF, CRUD, 0.0),
]


def cache_counts(server: Server) -> tuple[float, float]:
    """The response cache's (hits, misses) so far: (0, 0) without a cache."""
    text = httpx.get(server.url.replace("/graphql", "/metrics"), timeout=30).text
    found = dict.fromkeys(("hits", "misses"), 0.0)
    for line in text.splitlines():
        for name in found:
            if line.startswith(f"chronicle_response_cache_{name}_total "):
                found[name] = float(line.rpartition(" ")[2])
    return found["hits"], found["misses"]


def measure(servers: list[Server], args: argparse.Namespace, script: Path
            ) -> tuple[dict[tuple[str, str], list[Figure]], dict[str, float]]:
    """Every round's figure, by (operation, server), in round order; the hit rates."""
    figures: dict[tuple[str, str], list[Figure]] = {}
    counted: dict[str, list[float]] = {}
    for round_ in range(1, args.rounds + 1):
        for name, operation in OPERATIONS.items():
            for server in servers:
                if server.name == PLAIN and not operation.reads_only:
                    continue
                label = f"round {round_}/{args.rounds}: {server.name} {name}"
                progress(f"{label}: warm-up {args.warmup:.0f} s")
                load(server, operation, round_, args, args.warmup, script)
                progress(f"{label}: measuring {args.seconds:.0f} s")
                cached = server.name == ON
                before = cache_counts(server) if cached else (0.0, 0.0)
                figure = load(server, operation, round_, args, args.seconds, script)
                if cached:
                    after = cache_counts(server)
                    totals = counted.setdefault(name, [0.0, 0.0])
                    totals[0] += after[0] - before[0]
                    totals[1] += after[1] - before[1]
                progress(f"{label}: {figure.per_second:.0f}/s, p99 {figure.p99_ms:.1f} ms, "
                         f"{figure.failures} failed, load average {os.getloadavg()[0]:.1f}")
                figures.setdefault((name, server.name), []).append(figure)
    rates = {name: hits / (hits + misses) for name, (hits, misses) in counted.items()
             if hits + misses}
    return figures, rates


def rebuild_figure(events: int | None) -> str | None:
    """bench/rebuild.py's result lines, when another part of the project provides it.

    Its progress goes to the terminal as it runs (on stderr, beside ours); the
    lines that state results are kept for the report.
    """
    if not (ROOT / "bench" / "rebuild.py").exists():
        return None
    command = [sys.executable, "-m", "bench.rebuild"]
    if events is not None:
        command += ["--events", str(events)]
    progress(f"projection rebuild: {' '.join(command[1:])}")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE)
    assert process.stdout is not None
    output = bytearray()
    while chunk := os.read(process.stdout.fileno(), 4096):
        output += chunk
        sys.stderr.buffer.write(chunk)
        sys.stderr.flush()
    returncode = process.wait()
    # Progress lines are redrawn with carriage returns; results are whole lines.
    lines = [ln.strip() for ln in output.decode(errors="replace").replace("\r", "\n").splitlines()]
    results = [ln for ln in lines if ln.startswith(("rebuilt ", "full rebuild"))]
    if returncode != 0:
        results.append(f"bench.rebuild failed with exit code {returncode}")
    return "\n".join(results)


def report(rounds: dict[tuple[str, str], list[Figure]], names: list[str],
           args: argparse.Namespace, seeded_posts: int, rates: dict[str, float]) -> str:
    results = {key: median_figure(values) for key, values in rounds.items()}
    rows = []
    for operation in OPERATIONS:
        for name in names:
            f = results.get((operation, name))
            if f is None:
                continue
            cpu = "n/a" if f.cpu_ms is None else number(f.cpu_ms, "ms")
            hit = f"{rates[operation]:.0%}" if name == ON and operation in rates else ""
            rows.append([operation, name, number(f.per_second, "/s"), number(f.p50_ms, "ms"),
                         number(f.p99_ms, "ms"), cpu, hit, str(f.failures)])
    lines = [*environment(*DISTRIBUTIONS), "",
        f"HTTP benchmark: {args.client}, {args.connections} connections on loopback, "
        f"one server process each, {seeded_posts} posts seeded by {args.members} members "
        "via the API; "
        f"median of {args.rounds} round(s) of {args.seconds:.0f} s after {args.warmup:.0f} s "
        "warm-up, rounds alternating between the servers.",
        "",
        table(["operation", "server", "throughput", "p50", "p99", "server CPU/request",
               "cache hits", "failed"], rows),
    ]
    ratio_rows = []
    for operation, ours, theirs, target in TARGETS:
        if (operation, ours) not in results or (operation, theirs) not in results:
            continue
        ratio = results[(operation, ours)].per_second / results[(operation, theirs)].per_second
        verdict = "" if not target else "met" if ratio >= target else "NOT met"
        # Rounds alternate between the servers: each round's pair saw the same
        # machine, so their ratios show how much the verdict moves with it.
        per_round = ", ".join(
            f"{a.per_second / b.per_second:.2f}"
            for a, b in zip(rounds[(operation, ours)], rounds[(operation, theirs)], strict=True)
        )
        ratio_rows.append([operation, f"{ours} / {theirs}", f"{ratio:.2f}x", per_round,
                           f">= {target:.1f}x" if target else "", verdict])
    if ratio_rows:
        lines += ["", table(["operation", "ratio", "of medians", "each round", "target", ""],
                            ratio_rows)]
    for (operation, name), f in results.items():
        if f.sample:
            lines.append(f"\nfirst failed answer, {name} {operation}: {f.sample}")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chronicle vs the plain CRUD baseline over HTTP")
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s: a smoke run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured per round")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--posts", type=int, default=1000, help="posts seeded per server")
    parser.add_argument("--max-requests", type=int, default=200_000,
                        help="bound per wrk run, besides its duration")
    parser.add_argument("--client", choices=["wrk", "python"],
                        default="wrk" if shutil.which("wrk") else "python",
                        help="load generator: wrk when installed, else a bounded httpx client "
                             "in its own process (it costs the server more CPU)")
    parser.add_argument("--only", nargs="+", choices=["crud", "off", "on", "plain"],
                        help="measure only these servers")
    parser.add_argument("--rebuild-events", type=int, default=None,
                        help="events for bench.rebuild (its default when omitted)")
    parser.add_argument("--no-rebuild", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.warmup, args.posts = 1, 3.0, 1.0, 200
    return args


def main() -> None:
    args = parse_args()
    if args.client == "python":
        progress("wrk not used (Debian: apt-get install -y wrk): the httpx client takes "
                 "CPU from the servers, so absolute figures read low; the ratios still compare")
    for line in environment(*DISTRIBUTIONS):
        progress(line)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-http-")))
        script = write_wrk_script(work)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHRONICLE_")}
        chronicle = [str(BIN / "chronicle"), "serve", "--host", "127.0.0.1", "--port"]
        commands: dict[str, Callable[[int], list[str]]] = {
            CRUD: lambda port: [sys.executable, "-m", "bench.crud_app", "--port", str(port),
                                "--db", str(work / "crud.db")],
            OFF: lambda port: [*chronicle, str(port), "--data-dir", str(work / "off")],
            ON: lambda port: [*chronicle, str(port), "--data-dir", str(work / "on")],
            PLAIN: lambda port: [sys.executable, "-m", "bench.plain_app", "--port", str(port),
                                 "--body", str(work / "feed.json")],
        }
        short = {CRUD: "crud", OFF: "off", ON: "on", PLAIN: "plain"}
        if args.only:
            commands = {k: v for k, v in commands.items() if short[k] in args.only}
        servers = []
        for name, command in commands.items():
            port = free_port()
            log = stack.enter_context((work / f"{short[name]}.log").open("w"))
            progress(f"{name}: starting on port {port}")
            # Chronicle's per-request access log off: the CRUD baseline logs none either;
            # nor has it quotas, and every load client here is one address.
            server_env = dict(env, CHRONICLE_DATA_DIR=str(work / short[name]),
                              CHRONICLE_ACCESS_LOG="false", CHRONICLE_COST_BUDGET_PER_MINUTE="0",
                              CHRONICLE_REGISTRATIONS_PER_WINDOW="0",
                              CHRONICLE_RESPONSE_CACHE="false" if name == OFF else "true")
            if name == PLAIN:
                # The feed's answer as a Chronicle server gives it, as the fixed body.
                source = next((s for s in servers if s.name != CRUD), None)
                feed = httpx.post(source.url, json=feed_request(0)) if source else None
                (work / "feed.json").write_bytes(
                    feed.content if feed is not None else b'{"data":{"posts":{"edges":[]}}}'
                )
            try:
                url, pid = stack.enter_context(
                    serving(name, command(port), port, server_env, log)
                )
            except SystemExit:
                log.flush()
                print((work / f"{short[name]}.log").read_text()[-3000:], file=sys.stderr)
                raise
            tokens = [] if name == PLAIN else asyncio.run(
                seed(name, url, args.members, args.posts, args.connections)
            )
            servers.append(Server(name, url, pid, tokens))
        rounds, rates = measure(servers, args, script)
    # The HTTP table first: a long rebuild must not hold back what was measured.
    print(report(rounds, [s.name for s in servers], args, args.posts, rates), flush=True)
    rebuild = None if args.no_rebuild or args.quick else rebuild_figure(args.rebuild_events)
    if rebuild:
        print("\nProjection rebuild (bench/rebuild.py):\n" + rebuild)


if __name__ == "__main__":
    main()
