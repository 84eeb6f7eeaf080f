"""What each caller may spend: a cost per request, a cost budget per minute, registrations.

``Quotas.admit`` is asked once per operation, before anything runs, by the
schema extension (``schema.limits``) and, for an answer from the response
cache, by the cache's front (``chronicle.cache_front``), so neither can bypass it:

- an operation whose cost (``schema.cost``) is above ``max_cost`` is refused
  with BAD_USER_INPUT, ``extensions.cost`` and ``extensions.maxCost``;
- each caller (a member by id, an anonymous client by address) spends from a
  budget of ``budget`` cost per window of ``budget_seconds``; an operation
  the rest of the window cannot pay for is refused with RATE_LIMITED and
  ``retryAfter`` (seconds until the window resets);
- each client address may register ``registrations`` members per window of
  ``registration_seconds`` (every ``register`` field of an operation counts).

Windows are fixed: one opens at a key's first charge and resets
``seconds`` later, like GitHub's ``rateLimit.resetAt``. They live in this
process: scaled out, each process keeps its own (see README.md).
A limit of 0 switches that limit off.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError

from domain.errors import RateLimited

Clock = Callable[[], float]


@dataclass(frozen=True)
class Charge:
    """What one operation cost, and what its caller has left: ``extensions.cost``."""

    requested: int
    max_cost: int
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None

    def as_extension(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"requested": self.requested, "maxCost": self.max_cost}
        if self.limit is not None:
            shown["limit"] = self.limit
            shown["remaining"] = self.remaining
        if self.reset_at is not None:
            instant = datetime.fromtimestamp(self.reset_at, UTC)
            shown["resetAt"] = instant.isoformat(timespec="seconds").replace("+00:00", "Z")
        return shown


class TooCostly(GraphQLError):
    """BAD_USER_INPUT: the operation may cost more than one request is allowed."""

    def __init__(self, charge: Charge) -> None:
        super().__init__(
            f"This operation may cost {charge.requested}, above the limit of "
            f"{charge.max_cost} per request: ask for smaller pages (first/last) or fewer "
            "nested connections.",
            extensions={
                "code": "BAD_USER_INPUT", "cost": charge.requested, "maxCost": charge.max_cost,
            },
        )
        self.charge = charge


class QuotaExceeded(RateLimited):
    """RATE_LIMITED: the caller's budget, or the address's registrations, are spent."""

    def __init__(self, message: str, retry_after: int, charge: Charge) -> None:
        super().__init__(message, retry_after)
        self.charge = charge


class Windows:
    """Fixed windows per key: how much each key has used since its window opened."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._used: dict[str, tuple[float, int]] = {}
        self._next_sweep = 0.0

    def used(self, key: str, now: float) -> tuple[float, int]:
        """(when the key's window opened, what it used): a fresh window when none is open."""
        self._sweep(now)
        opened, used = self._used.get(key, (now, 0))
        if now >= opened + self.seconds:
            return now, 0
        return opened, used

    def spend(self, key: str, amount: int, now: float) -> tuple[float, int]:
        opened, used = self.used(key, now)
        self._used[key] = (opened, used + amount)
        return opened, used + amount

    def refund(self, key: str, amount: int, now: float) -> None:
        opened, used = self.used(key, now)
        if used:
            self._used[key] = (opened, max(0, used - amount))

    def keys(self) -> set[str]:
        return set(self._used)

    def retry_after(self, opened: float, now: float) -> int:
        return max(1, math.ceil(opened + self.seconds - now))

    def _sweep(self, now: float) -> None:
        # Closed windows are forgotten once per window length: the table holds
        # only the keys seen in the last two windows, however many come and go.
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.seconds
        self._used = {
            k: (opened, used) for k, (opened, used) in self._used.items()
            if now < opened + self.seconds
        }


class Quotas:
    """The limits of one app (no asyncio state: it may be built outside the event loop)."""

    def __init__(
        self,
        *,
        max_cost: int,
        budget: int,
        budget_seconds: float = 60,
        registrations: int = 0,
        registration_seconds: float = 600,
        list_size: int = 100,
        clock: Clock = time.time,
    ) -> None:
        self.max_cost = max_cost
        self.list_size = list_size
        """What a list without paging arguments may hold, for ``schema.cost``."""
        self.budgets = Windows(budget, budget_seconds)
        self.registrations = Windows(registrations, registration_seconds)
        self.clock = clock

    def admit(
        self, caller: str, client: str, cost: int, registrations: int = 0
    ) -> Charge:
        """Charge ``caller`` for an operation of ``cost``, or refuse it (nothing charged).

        Raises :class:`TooCostly` or :class:`QuotaExceeded`, each with the charge refused.
        """
        if self.max_cost and cost > self.max_cost:
            raise TooCostly(Charge(cost, self.max_cost))
        now = self.clock()
        budgets, signups = self.budgets, self.registrations
        left = self._left(caller, cost, now)
        if registrations and signups.limit:
            opened, used = signups.used(client, now)
            if used + registrations > signups.limit:
                raise QuotaExceeded(
                    "too many registrations from this address; try again later",
                    signups.retry_after(opened, now), left,
                )
        if budgets.limit:
            opened, used = budgets.used(caller, now)
            if used + cost > budgets.limit:
                raise QuotaExceeded(
                    f"this operation costs {cost}; {budgets.limit - used} of the budget of "
                    f"{budgets.limit} is left until it resets",
                    budgets.retry_after(opened, now), left,
                )
        # Admitted: only now is anything recorded, so a refusal costs the caller nothing.
        if registrations and signups.limit:
            signups.spend(client, registrations, now)
        if not budgets.limit:
            return Charge(cost, self.max_cost)
        opened, used = budgets.spend(caller, cost, now)
        return Charge(
            cost, self.max_cost, budgets.limit, budgets.limit - used, opened + budgets.seconds
        )

    def _left(self, caller: str, cost: int, now: float) -> Charge:
        """The charge as it stands before this operation: what a refusal shows."""
        budgets = self.budgets
        if not budgets.limit:
            return Charge(cost, self.max_cost)
        opened, used = budgets.used(caller, now)
        return Charge(cost, self.max_cost, budgets.limit, budgets.limit - used,
                      opened + budgets.seconds)

    def refund(self, caller: str, cost: int) -> None:
        """Give back a charge whose operation was handed over to be run (and charged) again."""
        if self.budgets.limit:
            self.budgets.refund(caller, cost, self.clock())


def caller_key(user_id: str | None, client: str | None) -> str:
    """A member's budget follows the member; an anonymous caller's, its address."""
    return f"member:{user_id}" if user_id else f"client:{client or 'unknown'}"
