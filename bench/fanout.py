"""Issue 10's fan-out benchmark: many websocket subscribers, one server process.

One ``chronicle serve`` (embedded SQLite, in-process bus) pinned to core 0;
this process, the load generator, pinned to core 1 (``--no-pin`` to leave
both to the scheduler). For each document (``events`` and ``feed``) and each
subscriber count, it opens that many raw graphql-transport-ws sockets
(``bench._ws_load``) as one member, waits until every subscription has
delivered a first result (each resumes from just before a warm-up post, so
it is certainly live), then creates posts at a steady rate and reports:

- delay from commit to receipt, p50/p99: the receipt time minus the commit
  time the server put in the result (the event's ``occurredAt``, the post's
  ``publishedAt``: one clock, one machine); and from the request's start;
- missed and duplicated deliveries over every subscriber (must be 0);
- server CPU per delivery, from /proc/PID/stat over the posting window;
- server memory per idle subscriber: RSS after the sockets subscribed and
  settled, minus RSS before they connected, over their number.

Run: ``make bench-fanout`` or ``.venv/bin/python -m bench.fanout [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench._report import environment, progress, table
from bench._ws_load import Subscriber, open_all
from bench.http import BIN, REGISTER, cpu_seconds, free_port, post_input, serving

DISTRIBUTIONS = ("strawberry-graphql", "uvicorn", "websockets", "sqlalchemy", "aiosqlite")

CREATE_POST = """mutation C($input: CreatePostInput!) {
  createPost(input: $input) { post { id } position } }"""
DOCUMENTS: dict[str, tuple[str, Any]] = {
    "events": (
        """subscription E($after: Position) {
          events(after: $after, types: ["PostPublished"]) { type streamId occurredAt } }""",
        lambda data: (data["events"]["streamId"], data["events"]["occurredAt"]),
    ),
    "feed": (
        """subscription F($after: Position) {
          feed(after: $after) { change position post { id publishedAt } } }""",
        lambda data: (data["feed"]["post"]["id"], data["feed"]["post"]["publishedAt"])
        if data["feed"]["change"] == "ADDED" else None,
    ),
}


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=32))

    async def __call__(self, query: str, variables: dict[str, Any], token: str | None = None
                       ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = await self.client.post(self.url, json={"query": query, "variables": variables},
                                        headers=headers)
        payload = answer.json()
        if payload.get("errors"):
            raise RuntimeError(f"request failed: {payload['errors']}")
        return dict(payload["data"])

    async def member(self, name: str) -> str:
        data = await self(REGISTER, {"input": {
            "username": name, "email": f"{name}@bench.example", "password": "bench password 1"}})
        return str(data["register"]["token"])

    async def post(self, token: str, i: int) -> tuple[str, int]:
        """(post id, position) of a new published post."""
        data = (await self(CREATE_POST, post_input(i), token))["createPost"]
        return str(data["post"]["id"]), int(data["position"])


async def scenario(api: Api, pid: int, ws_url: str, tokens: tuple[str, str], name: str,
                   count: int, args: argparse.Namespace) -> list[str]:
    poster, watcher = tokens
    document, extract = DOCUMENTS[name]
    _, warm = await api.post(poster, 0)
    after = str(warm - 1)
    subscribers = [Subscriber(ws_url, watcher, document, {"after": after}, extract)
                   for _ in range(count)]
    # Memory per idle subscriber past the first tenth: what the first ones cost once
    # (caches, allocator arenas) is not what each further socket costs.
    warm_up = subscribers[: max(1, count // 10)]
    progress(f"{name} x{count}: opening sockets")
    await _open(warm_up, name, count)
    before_rss = rss_bytes(pid)
    await _open(subscribers[len(warm_up):], name, count)
    idle_rss = rss_bytes(pid)
    measured = count - len(warm_up)
    for s in subscribers:
        s.received.clear()
    total = int(args.rate * args.seconds)
    progress(f"{name} x{count}: all live; {total} createPost at {args.rate:g}/s")
    sent: dict[str, float] = {}
    failed: list[str] = []
    cpu_before, started = cpu_seconds(pid) or 0.0, time.monotonic()

    async def create(i: int) -> None:
        at = time.time()
        try:
            post_id, _ = await api.post(poster, i)
        except (RuntimeError, httpx.HTTPError) as error:
            failed.append(str(error))  # counted and shown: never folded into the figures
            return
        sent[post_id] = at

    tasks = []
    for i in range(total):
        await asyncio.sleep(max(0.0, started + i / args.rate - time.monotonic()))
        tasks.append(asyncio.create_task(create(i + 1)))
        if (i + 1) % int(args.rate * 5) == 0:
            progress(f"{name} x{count}: {i + 1}/{total} posts")
    await asyncio.gather(*tasks)
    # Late is not missed: wait (up to --drain seconds) until every socket has every post.
    for tick in range(int(args.drain * 5)):
        behind = sum(len(sent.keys() - {p for p, _, _ in s.received}) for s in subscribers)
        if not behind:
            break
        if tick % 25 == 0:
            progress(f"{name} x{count}: {behind} deliveries still on their way")
        await asyncio.sleep(0.2)
    cpu = (cpu_seconds(pid) or 0.0) - cpu_before
    delays, requests, missed, duplicated, errors = [], [], 0, 0, 0
    for s in subscribers:
        mine = [(p, d, r) for p, d, r in s.received if p in sent]
        ids = [p for p, _, _ in mine]
        missed += len(sent.keys() - set(ids))
        duplicated += len(ids) - len(set(ids))
        delays += [d for _, d, _ in mine]
        requests += [r - sent[p] for p, _, r in mine]
        errors += len(s.errors)
    frames = sum(s.frames for s in subscribers)
    await asyncio.gather(*(s.close() for s in subscribers))
    if failed:
        progress(f"{name} x{count}: {len(failed)} createPost failed, first: {failed[0]}")
    deliveries = len(delays)
    return [
        name, str(count), f"{len(sent)}/{total}", f"{deliveries / args.seconds:,.0f}/s",
        f"{percentile(delays, 0.5) * 1000:.0f} ms", f"{percentile(delays, 0.99) * 1000:.0f} ms",
        f"{percentile(requests, 0.5) * 1000:.0f} ms", f"{percentile(requests, 0.99) * 1000:.0f} ms",
        str(missed), str(duplicated), str(errors),
        f"{cpu / max(frames, 1) * 1e6:.0f} µs",
        f"{(idle_rss - before_rss) / measured / 1024:.1f} KB",
    ]


async def _open(subscribers: list[Subscriber], name: str, count: int) -> None:
    """Open, wait until each delivered its first result (it is live), let the server settle."""
    await open_all(subscribers, 50, lambda n: progress(f"{name} x{count}: {n} subscribed"))
    await asyncio.wait_for(asyncio.gather(*(s.first for s in subscribers)), 300)
    await asyncio.sleep(2)


async def run(url: str, pid: int, args: argparse.Namespace) -> list[list[str]]:
    api = Api(url)
    tokens = (await api.member("bench_poster"), await api.member("bench_watcher"))
    rows = []
    for name in args.documents:
        for count in args.subscribers:
            rows.append(await scenario(api, pid, url.replace("http://", "ws://"), tokens,
                                       name, count, args))
            progress(" | ".join(rows[-1]))
    await api.client.aclose()
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 and 300 subscribers, 5 s")
    parser.add_argument("--subscribers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--documents", nargs="+", default=["events", "feed"],
                        choices=sorted(DOCUMENTS))
    parser.add_argument("--rate", type=float, default=10.0, help="createPost per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--drain", type=float, default=180.0,
                        help="longest wait for late deliveries before they count as missed")
    parser.add_argument("--server-path", metavar="DIR",
                        help="serve another checkout's code (its PYTHONPATH), for a baseline; "
                             "only `events` then, which every version serves")
    parser.add_argument("--server-env", metavar="NAME=VALUE", nargs="+", default=[],
                        help="settings for the server, e.g. CHRONICLE_WS_IMPLEMENTATION=websockets")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the server to core 0 and this generator to core 1")
    args = parser.parse_args()
    if args.quick:
        args.subscribers, args.seconds = [100, 300], 5.0
    return args


def main() -> None:
    args = parse_args()
    pinned = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
    if pinned:
        os.sched_setaffinity(0, {1})
    for line in environment(*DISTRIBUTIONS):
        progress(line)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fanout-")))
        port = free_port()
        command = [str(BIN / "chronicle"), "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--data-dir", str(work / "data")]
        if pinned:
            command = ["taskset", "-c", "0", *command]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHRONICLE_")}
        if args.server_path:
            env["PYTHONPATH"] = args.server_path
        # A write's payload waits for the read model; on a busy machine give it time
        # rather than count a committed post as failed.
        env |= {"CHRONICLE_ACCESS_LOG": "false", "CHRONICLE_ARGON2_TIME_COST": "1",
                "CHRONICLE_ARGON2_MEMORY_COST_KIB": "1024", "CHRONICLE_READ_WAIT_TIMEOUT": "30"}
        env |= dict(setting.split("=", 1) for setting in args.server_env)
        log = stack.enter_context((work / "server.log").open("w"))
        progress(f"server on port {port}" + (" pinned to core 0, generator to core 1"
                                             if pinned else ""))
        url, pid = stack.enter_context(serving("chronicle", command, port, env, log))
        rows = asyncio.run(run(url, pid, args))
    print(f"\nFan-out, one `chronicle serve` (SQLite, memory://), createPost at {args.rate:g}/s "
          f"for {args.seconds:g} s; " + ("server on core 0, generator on core 1; "
                                         if pinned else "not pinned; ")
          + f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(table(["document", "subscribers", "posts made", "deliveries", "commit→receipt p50", "p99",
                 "request→receipt p50", "p99", "missed", "duplicated", "errors",
                 "server CPU/delivery", "RSS/idle subscriber"], rows))


if __name__ == "__main__":
    sys.exit(main())
