"""Read-your-writes: wait, bounded, until the read model has applied a position."""

from __future__ import annotations

from domain.errors import DomainError
from resolvers.context import Services


class StaleRead(DomainError):
    """The projections did not reach the requested position within the read wait timeout."""

    code = "STALE_READ"

    def __init__(self, position: int) -> None:
        super().__init__(f"The read model has not reached position {position} yet; retry")
        self.position = position


async def wait_for_position(services: Services, position: int) -> None:
    """Return once every projection applied ``position``; StaleRead after the timeout."""
    if position <= 0:
        return
    timeout = services.read_wait_timeout
    try:
        reached = await services.runner.wait_for(position, timeout)
    except TimeoutError:
        raise StaleRead(position) from None
    if reached is False:
        raise StaleRead(position)
