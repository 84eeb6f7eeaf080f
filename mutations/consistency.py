"""Read-your-writes for mutations: run the command, then wait until the read model shows it.

A mutation's payload is read from the read model, which the runner fills
asynchronously from the log. Waiting (bounded) for the command's own position
makes the payload reflect the command; a read model that cannot catch up in
time is reported as ``STALE_READ`` (``resolvers.consistency.StaleRead``)
rather than silently served stale.

A committed write is never reported as failed: once the command is recorded,
whatever keeps its payload from being read (the wait timing out or failing,
the row missing because the projection parked the event, a read error)
leaves as ``STALE_READ`` with ``recorded: true`` and the write's position.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.commands import Command
from domain.errors import DomainError
from domain.ports import Outcome
from resolvers.consistency import StaleRead, wait_for_position
from resolvers.context import RequestContext

log = logging.getLogger(__name__)


async def run_command(ctx: RequestContext, command: Command) -> Outcome:
    """Execute ``command`` as the caller, then wait until the read model applied it.

    The request id doubles as the correlation id, so the audit trail and the
    logs of one request can be joined.
    """
    outcome = await ctx.services.execute(command, ctx.actor, ctx.request_id)
    async with after_write(outcome.position):
        await wait_for_position(ctx.services, outcome.position)
    return outcome


@asynccontextmanager
async def after_write(position: int) -> AsyncIterator[None]:
    """Work done after a write committed at ``position``: any failure in it says so."""
    try:
        yield
    except StaleRead as stale:
        if stale.recorded:
            raise
        raise StaleRead(position, recorded=True) from None
    except Exception as error:
        if not isinstance(error, DomainError):
            log.exception("reading back the write at position %d failed", position)
        raise StaleRead(position, recorded=True) from error


def result_id(outcome: Outcome, key: str, fallback: str | None = None) -> str:
    """The id a handler reports under ``key`` (e.g. "post_id")."""
    found = outcome.result.get(key, fallback)
    if found is None:
        raise LookupError(f"the handler reported no {key}")
    return found
