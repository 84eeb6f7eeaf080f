"""Read-your-writes: wait, bounded, until the projections reach a position.

A mutation's payload is read from the read model, which the runner fills
asynchronously from the log. Waiting for the command's own position makes the
payload reflect the command; a read model that cannot catch up in time is
reported as ``STALE_READ`` rather than silently served stale.
"""

from __future__ import annotations

from domain.commands import Command
from domain.ports import Outcome
from resolvers.context import RequestContext, Services


class StaleRead(Exception):
    code = "STALE_READ"

    def __init__(self, position: int, timeout: float) -> None:
        super().__init__(
            f"the read model did not reach position {position} within {timeout:g} s"
        )
        self.position = position
        self.timeout = timeout


async def caught_up(services: Services, position: int | None) -> None:
    """Return once every projection has applied ``position``; raise StaleRead on timeout."""
    if not position:
        return
    timeout = services.read_wait_timeout
    try:
        reached = await services.runner.wait_for(position, timeout)
    except TimeoutError:
        reached = False
    if reached is False:
        raise StaleRead(position, timeout)


async def run_command(ctx: RequestContext, command: Command) -> Outcome:
    """Execute ``command`` as the caller, then wait until the read model shows it.

    The request id doubles as the correlation id, so the audit trail and the
    logs of one request can be joined.
    """
    outcome = await ctx.services.execute(command, ctx.actor, ctx.request_id)
    await caught_up(ctx.services, outcome.position)
    return outcome


def result_id(outcome: Outcome, key: str, fallback: str | None = None) -> str:
    """The id a handler reports under ``key`` (e.g. "post_id")."""
    found = outcome.result.get(key, fallback)
    if found is None:
        raise LookupError(f"the handler reported no {key}")
    return found
