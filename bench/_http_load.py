"""Load generators for the HTTP benchmark: wrk with a Lua script, or a bounded httpx client.

Both send one GraphQL POST body over a fixed number of connections, bounded by
time and by count, check every answer (HTTP 200 and no ``errors``) and report
throughput, p50/p99 latency and failures as a :class:`Figure`.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench._report import median

# wrk's Lua side: prebuilt requests that rotate through the members' tokens,
# every response checked, a per-thread request bound so a run stops by count
# as well as by time, and one JSON line for the harness at the end.
WRK_SCRIPT = r"""
local body = os.getenv("BENCH_BODY")
local write_body = os.getenv("BENCH_WRITE_BODY") or ""
local write_every = tonumber(os.getenv("BENCH_WRITE_EVERY") or "0")
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS"))
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  table.insert(tokens, token)
end
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("offset", #threads)
end

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  requests = {}
  writes = {}
  if #tokens == 0 then
    requests[1] = wrk.format("POST", nil, headers, body)
  end
  for i, token in ipairs(tokens) do
    headers["Authorization"] = "Bearer " .. token
    requests[i] = wrk.format("POST", nil, headers, body)
    if write_every > 0 then writes[i] = wrk.format("POST", nil, headers, write_body) end
  end
  turn = offset
  sent = offset
  responses = 0
  failures = 0
  sample = ""
end

function request()
  turn = turn % #requests + 1
  sent = sent + 1
  if write_every > 0 and sent % write_every == 0 then return writes[turn] end
  return requests[turn]
end

function response(status, headers, response_body)
  responses = responses + 1
  if status ~= 200 or string.find(response_body, '"errors"', 1, true) then
    failures = failures + 1
    if sample == "" then sample = string.sub(response_body, 1, 300) end
  end
  if responses >= max_requests then wrk.thread:stop() end
end

function done(summary, latency, _)
  local failed, example = 0, ""
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    if example == "" then example = thread:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"failures": %d, "socket_errors": %d, "sample": %q}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    failed, e.connect + e.read + e.write + e.timeout, example))
end
"""


@dataclass(frozen=True)
class Figure:
    """One wrk run: throughput, latency and every failed answer."""

    per_second: float
    p50_ms: float
    p99_ms: float
    failures: int
    requests: int
    sample: str = ""
    cpu_ms: float | None = None
    """The server process's CPU time per answered request: what load on the machine barely moves."""


def write_wrk_script(folder: Path) -> Path:
    script = folder / "graphql.lua"
    script.write_text(WRK_SCRIPT)
    return script


def run_wrk(url: str, body: dict[str, Any], tokens: list[str], *, connections: int,
            seconds: float, max_requests: int, script: Path,
            write: tuple[dict[str, Any], int] | None = None) -> Figure:
    """``write``: a second body sent as every n-th request (a read/write mix)."""
    threads = min(2, connections)
    env = dict(os.environ, BENCH_BODY=json.dumps(body), BENCH_TOKENS=",".join(tokens),
               BENCH_MAX_REQUESTS=str(max(1, max_requests // threads)))
    if write is not None:
        env |= {"BENCH_WRITE_BODY": json.dumps(write[0]), "BENCH_WRITE_EVERY": str(write[1])}
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--timeout", "30s", "-s", str(script), url]
    done = subprocess.run(command, env=env, capture_output=True, text=True,
                          timeout=seconds + 60, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = json.loads(line[len("BENCH "):])
    failures = int(result["failures"]) + int(result["socket_errors"])
    return Figure(
        per_second=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000, p99_ms=result["p99_us"] / 1000,
        failures=failures, requests=int(result["requests"]), sample=str(result["sample"]),
    )


def run_python_client(url: str, body: dict[str, Any], tokens: list[str], *, connections: int,
                      seconds: float, max_requests: int) -> Figure:
    """The fallback load generator, in its own process so it does not share the harness's GIL."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(python_load, url, body, tokens, connections, seconds,
                           max_requests).result(timeout=seconds + 120)


def python_load(url: str, body: dict[str, Any], tokens: list[str], connections: int,
                seconds: float, max_requests: int) -> Figure:
    return asyncio.run(_python_load(url, body, tokens, connections, seconds, max_requests))


async def _python_load(url: str, body: dict[str, Any], tokens: list[str], connections: int,
                       seconds: float, max_requests: int) -> Figure:
    headers = [{"Authorization": f"Bearer {t}"} for t in tokens] or [{}]
    payload = json.dumps(body).encode()
    latencies: list[float] = []
    failures: list[str] = []
    sent = 0
    start = time.perf_counter()
    deadline = start + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def connection(offset: int) -> None:
            nonlocal sent
            turn = offset
            # Bounded by count and by time, like wrk's runs.
            while sent < max_requests and time.perf_counter() < deadline:
                sent += 1
                turn = (turn + 1) % len(headers)
                began = time.perf_counter()
                try:
                    answer = await client.post(url, content=payload, headers={
                        "Content-Type": "application/json", **headers[turn]})
                    text = answer.text
                    if answer.status_code != 200 or '"errors"' in text:
                        failures.append(text[:300])
                except httpx.HTTPError as error:
                    failures.append(repr(error))
                latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(connection(i) for i in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return Figure(per_second=len(latencies) / elapsed, p50_ms=percentile(50),
                  p99_ms=percentile(99), failures=len(failures), requests=len(latencies),
                  sample=failures[0] if failures else "")


def median_figure(figures: list[Figure]) -> Figure:
    cpu = [f.cpu_ms for f in figures if f.cpu_ms is not None]
    return Figure(
        per_second=median([f.per_second for f in figures]),
        p50_ms=median([f.p50_ms for f in figures]),
        p99_ms=median([f.p99_ms for f in figures]),
        failures=sum(f.failures for f in figures),
        requests=sum(f.requests for f in figures),
        sample=next((f.sample for f in figures if f.sample), ""),
        cpu_ms=median(cpu) if cpu else None,
    )
