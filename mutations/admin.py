"""Operator actions over the API: rebuilding a projection without taking reads offline,
re-applying the events a projection parked."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from domain.errors import Forbidden, NotFound, Unauthenticated
from projections.requests import NothingParked
from resolvers.context import RequestContext
from resolvers.operations import require_admin

log = logging.getLogger("chronicle.rebuild")

# asyncio keeps only weak references to tasks: a rebuild nobody awaits must be
# held here until it finishes, or it could be garbage-collected half-way.
_running: set[asyncio.Task[Any]] = set()


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("projection rebuild failed", exc_info=error)


def _progress(name: str) -> Any:
    reported = -1

    def report(done: int, total: int) -> None:
        nonlocal reported
        percent = 100 * done // total if total else 100
        if percent // 10 != reported // 10:  # one line per tenth, not per batch
            reported = percent
            log.info("rebuilding %s: %d/%d events", name, done, total)

    return report


async def rebuild_projection(ctx: RequestContext, name: str) -> Any:
    """Start a blue/green rebuild of ``name`` and return its status (REBUILDING).

    The rebuild runs as a task: it can take minutes on a long log, far longer
    than a request should be held open. Its progress shows in ``projections``.
    """
    if ctx.actor is None:
        raise Unauthenticated("sign in as an admin to rebuild projections")
    if not ctx.actor.is_admin:
        raise Forbidden("only admins may rebuild projections")
    runner = ctx.services.runner
    if name not in runner.names:
        raise NotFound(f"no projection named {name!r}")
    task = asyncio.create_task(runner.rebuild(name, _progress(name)))
    _running.add(task)
    task.add_done_callback(_finished)
    # Answer once the new generation is recorded (REBUILDING), or with the
    # final status if the log is so short that the rebuild is already done.
    deadline = time.monotonic() + ctx.services.read_wait_timeout
    while time.monotonic() < deadline:
        done, _ = await asyncio.wait({task}, timeout=0.02)
        if done:
            return task.result()
        status = await runner.status(name)
        if status.state == "REBUILDING":
            return status
    return await runner.status(name)


async def retry_dead_letters(ctx: RequestContext, name: str, position: int | None) -> Any:
    """Re-apply the events ``name`` parked (all, or the one at ``position`` and those held
    behind it), in log order, and return the outcome (``projections.retry``)."""
    require_admin(ctx, "retry parked events")
    runner = ctx.services.runner
    if name not in runner.names:
        raise NotFound(f"no projection named {name!r}")
    try:
        return await runner.retry(name, position)
    except NothingParked:
        raise NotFound(f"no event of {name} is parked at position {position}") from None
