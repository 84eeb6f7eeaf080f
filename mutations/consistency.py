"""Read-your-writes for mutations: run the command, then wait until the read model shows it.

A mutation's payload is read from the read model, which the runner fills
asynchronously from the log. Waiting (bounded) for the command's own position
makes the payload reflect the command; a read model that cannot catch up in
time is reported as ``STALE_READ`` (``resolvers.consistency.StaleRead``)
rather than silently served stale.
"""

from __future__ import annotations

from domain.commands import Command
from domain.ports import Outcome
from resolvers.consistency import wait_for_position
from resolvers.context import RequestContext


async def run_command(ctx: RequestContext, command: Command) -> Outcome:
    """Execute ``command`` as the caller, then wait until the read model applied it.

    The request id doubles as the correlation id, so the audit trail and the
    logs of one request can be joined.
    """
    outcome = await ctx.services.execute(command, ctx.actor, ctx.request_id)
    await wait_for_position(ctx.services, outcome.position)
    return outcome


def result_id(outcome: Outcome, key: str, fallback: str | None = None) -> str:
    """The id a handler reports under ``key`` (e.g. "post_id")."""
    found = outcome.result.get(key, fallback)
    if found is None:
        raise LookupError(f"the handler reported no {key}")
    return found
