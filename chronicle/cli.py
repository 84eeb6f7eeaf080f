"""The ``chronicle`` command line: serve, migrate, promote, events, projections."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from chronicle.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    return Settings(**overrides)


def _redacted(data: dict[str, Any], event_type: str) -> dict[str, Any]:
    from events.catalog import CATALOG

    spec = CATALOG.get(event_type)
    secret = set(spec.secret) if spec else set()
    return {k: ("[redacted]" if k in secret else v) for k, v in data.items()}


def _print_event(e: Any) -> None:
    line = {
        "position": e.position,
        "recordedAt": e.recorded_at.isoformat(),
        "streamType": e.stream_type,
        "streamId": e.stream_id,
        "version": e.version,
        "type": e.type,
        "actorId": e.actor_id,
        "data": _redacted(e.data, e.type),
    }
    sys.stdout.write(orjson.dumps(line).decode() + "\n")
    sys.stdout.flush()


async def _migrate(settings: Settings) -> None:
    from events.db import migrate

    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate(settings.resolved_database_url)
    print(f"migrated {settings.resolved_database_url}")


async def _promote(settings: Settings, username: str) -> int:
    from chronicle.bootstrap import start
    from domain.commands import PromoteUser
    from domain.errors import DomainError

    app = await start(settings, projections=False)
    try:
        outcome = await app.execute(PromoteUser(username=username))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    finally:
        await app.stop()
    print(f"{username} is an admin (position {outcome.position})")
    return 0


async def _tail(settings: Settings, after: int, follow: bool, interval: float) -> None:
    from chronicle.bootstrap import start

    app = await start(settings, projections=False)
    try:
        while True:
            async for recorded in app.store.tail(after=after):
                _print_event(recorded)
                after = recorded.position
            if not follow:
                return
            # A separate process may not share the server's bus (memory://): poll the log.
            await asyncio.sleep(interval)
    finally:
        await app.stop()


async def _stats(settings: Settings) -> None:
    from chronicle.bootstrap import start

    app = await start(settings, projections=False)
    try:
        stats = await app.store.stats()
    finally:
        await app.stop()
    sys.stdout.write(orjson.dumps(stats, option=orjson.OPT_INDENT_2).decode() + "\n")


async def _rebuild(settings: Settings, name: str) -> int:
    from chronicle.bootstrap import start

    app = await start(settings, projections=False)

    def progress(done: int, total: int) -> None:
        percent = 100.0 * done / total if total else 100.0
        print(f"\rrebuilding {name}: {done}/{total} events ({percent:5.1f}%)", end="", flush=True)

    try:
        if name not in app.runner.names:
            print(f"error: no projection {name!r} (known: {', '.join(app.runner.names)})",
                  file=sys.stderr)
            return 1
        status = await app.runner.rebuild(name, progress)
    finally:
        await app.stop()
    print(f"\n{status.name}: {status.state} at position {status.position}")
    return 0


async def _projection_status(settings: Settings) -> None:
    from chronicle.bootstrap import start

    app = await start(settings, projections=False)
    try:
        for s in await app.runner.statuses():
            error = f"  error: {s.last_error}" if s.last_error else ""
            parked = f"  parked {s.parked} ({s.last_parked_error})" if s.parked else ""
            print(f"{s.name:12} {s.state:12} position {s.position:>10}  lag {s.lag}{error}"
                  f"{parked}")
    finally:
        await app.stop()


async def _retry(settings: Settings, name: str, position: int | None) -> int:
    from chronicle.bootstrap import start
    from projections.requests import NothingParked

    app = await start(settings, projections=False)
    try:
        if name not in app.runner.names:
            print(f"error: no projection {name!r} (known: {', '.join(app.runner.names)})",
                  file=sys.stderr)
            return 1
        parked = await app.runner.dead_letters(name)
        print(f"retrying {name}: {len(parked)} parked event(s) ...", flush=True)
        try:
            outcome = await app.runner.retry(name, position)
        except NothingParked:
            print(f"error: no event of {name} is parked at position {position}", file=sys.stderr)
            return 1
    finally:
        await app.stop()
    print(f"{name}: {len(outcome.applied)} applied, {len(outcome.parked)} still parked")
    for letter in outcome.parked:
        print(f"  position {letter.position:>10}  {letter.event_type:16} attempts "
              f"{letter.attempts}  {letter.error_class}: {letter.error_message}")
    return 0 if not outcome.parked else 2


def _export_schema() -> None:
    from schema import sdl

    sys.stdout.write(sdl().rstrip() + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chronicle", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the GraphQL API, the web app and the projections")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir")

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--data-dir")

    promote = sub.add_parser("promote", help="grant the admin role (recorded as an event)")
    promote.add_argument("username")
    promote.add_argument("--data-dir")

    events = sub.add_parser("events", help="read the event log")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    tail = events_sub.add_parser("tail", help="print the log, then follow new events")
    tail.add_argument("--after", type=int, default=0, help="start after this position")
    tail.add_argument("--no-follow", action="store_true", help="stop at the head")
    tail.add_argument("--interval", type=float, default=0.5, help="poll interval (s)")
    tail.add_argument("--data-dir")
    stats = events_sub.add_parser("stats", help="counts by stream type and event type")
    stats.add_argument("--data-dir")

    projections = sub.add_parser("projections", help="read models")
    proj_sub = projections.add_subparsers(dest="projections_command", required=True)
    rebuild = proj_sub.add_parser("rebuild", help="rebuild blue/green without downtime")
    rebuild.add_argument("name")
    rebuild.add_argument("--data-dir")
    retry = proj_sub.add_parser("retry", help="re-apply the events a projection parked")
    retry.add_argument("name")
    retry.add_argument("--position", type=int,
                       help="only the event parked there and those held behind it")
    retry.add_argument("--data-dir")
    status = proj_sub.add_parser("status", help="position and lag of every projection")
    status.add_argument("--data-dir")

    sub.add_parser("export-schema", help="print the served GraphQL schema (SDL)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        _export_schema()
        return 0
    settings = _settings(args)
    if args.command == "serve":
        from chronicle.app import serve

        serve(settings)
        return 0
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    if args.command == "promote":
        return asyncio.run(_promote(settings, args.username))
    if args.command == "events":
        if args.events_command == "tail":
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(_tail(settings, args.after, not args.no_follow, args.interval))
            return 0
        asyncio.run(_stats(settings))
        return 0
    if args.command == "projections":
        if args.projections_command == "rebuild":
            return asyncio.run(_rebuild(settings, args.name))
        if args.projections_command == "retry":
            return asyncio.run(_retry(settings, args.name, args.position))
        asyncio.run(_projection_status(settings))
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())
