"""The LoginThrottle aggregate: failed logins per username, recorded as events.

One stream per username (known or not, so probing unknown names is throttled
too). The failures that count are those since the last success; the decision
is taken before the password is checked, so a throttled caller learns nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.aggregate import Aggregate, plain_restore, plain_snapshot
from domain.errors import RateLimited
from events.catalog import DomainEvent, LoginFailed, LoginSucceeded

STREAM_TYPE = "LoginThrottle"
KEPT_FAILURES = 1000
"""Only the newest failures matter (at most ``login_max_failures`` of them): keep the
state, and its snapshots, bounded however long a name is attacked."""


@dataclass(frozen=True)
class ThrottleState:
    failures: tuple[str, ...] = ()
    """ISO instants of the failures since the last success, oldest first."""


def evolve(state: ThrottleState, event: DomainEvent) -> ThrottleState:
    match event:
        case LoginFailed():
            return ThrottleState((*state.failures, event.at)[-KEPT_FAILURES:])
        case LoginSucceeded():
            return ThrottleState()
    return state


AGGREGATE = Aggregate(
    stream_type=STREAM_TYPE,
    initial=ThrottleState(),
    evolve=evolve,
    to_snapshot=plain_snapshot,
    from_snapshot=plain_restore(ThrottleState),
    snapshot_version=1,
)


def check(state: ThrottleState, *, now: datetime, max_failures: int, window_seconds: int) -> None:
    """Raise RateLimited while ``max_failures`` failures lie within the window."""
    window = timedelta(seconds=window_seconds)
    recent = sorted(t for at in state.failures if (t := datetime.fromisoformat(at)) > now - window)
    if len(recent) < max_failures:
        return
    # Attempts resume once fewer than max_failures remain in the window, i.e.
    # when this failure (the oldest of the last max_failures) leaves it.
    leaves_at = recent[len(recent) - max_failures] + window
    retry_after = max(1, math.ceil((leaves_at - now).total_seconds()))
    raise RateLimited("too many failed logins; try again later", retry_after)


def failed(username: str, *, now: datetime) -> list[DomainEvent]:
    return [LoginFailed(username, now.isoformat())]


def succeeded(state: ThrottleState, username: str, *, now: datetime) -> list[DomainEvent]:
    """Only a success after failures is worth recording: it resets the count."""
    return [LoginSucceeded(username, now.isoformat())] if state.failures else []
