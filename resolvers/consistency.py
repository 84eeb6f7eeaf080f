"""Read-your-writes: wait, bounded, until the read model has applied a position."""

from __future__ import annotations

from domain.errors import DomainError
from resolvers.context import Services


class StaleRead(DomainError):
    """The projections did not reach the requested position within the read wait timeout,
    or cannot: the log's head (``head``) is not there yet.

    ``recorded``: the request's own write committed at ``position``, and only its
    payload could not be read back; the client must not repeat the write.
    """

    code = "STALE_READ"

    def __init__(self, position: int, head: int | None = None, *,
                 recorded: bool = False) -> None:
        if recorded:
            message = (
                f"Your change was recorded at position {position}, but it cannot be read "
                "back now (the read model is behind, or no longer shows it to you): do not "
                "send it again; read it with X-Min-Position"
            )
        elif head is not None:
            message = (f"Position {position} is past the head of the log ({head}): "
                       "no read reaches it")
        else:
            message = f"The read model has not reached position {position} yet; retry"
        super().__init__(message)
        self.position = position
        self.head = head
        self.recorded = recorded


async def wait_for_position(services: Services, position: int) -> None:
    """Return once every projection applied ``position``; StaleRead after the timeout,
    or at once when the log itself has not reached it (waiting could not help)."""
    if position <= 0:
        return
    runner = services.runner
    if await runner.wait_for(position, 0):
        return
    # Read only now, on the way to waiting: the log is shared by every process, and
    # a client's position came from a committed write, so it is at most the head.
    head = await services.store.head_position()
    if head < position:
        raise StaleRead(position, head)
    timeout = services.read_wait_timeout
    try:
        reached = await runner.wait_for(position, timeout)
    except TimeoutError:
        raise StaleRead(position) from None
    if reached is False:
        raise StaleRead(position)
