"""What the token check needs about a member, kept in memory while the notices are heard.

Every authenticated request checks its token against the users read model:
the member's role, whether they were forgotten, and their credential version
(a password change makes older tokens stale). Reading that row costs a query
per request; :class:`Credentials` keeps it in memory instead, under the same
rule as the response cache (``chronicle.response_cache``):

- a row is forgotten when the users projection announces a batch that wrote
  it (``changes`` name every ``users`` row a batch wrote); a notice that may
  have changed anything (no ``tables``: a swapped generation) forgets all;
- nothing is served from memory while the notices are not being heard (the
  subscription is down or not yet made), nor while this process's runner has
  applied a users batch that was not announced yet (``positions``): a
  demotion, a forgotten member or a password change counts from the moment
  its batch is applied here, as when every request read the table;
- a row read while a notice arrived is not kept (``epoch``): it may predate it.

A member registered a moment ago may not be projected yet: that absence is
kept too, and forgotten by the batch that adds them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from events.bus import PROJECTIONS_CHANNEL, Bus, BusError

log = logging.getLogger(__name__)

RESUBSCRIBE_DELAY = 0.5
USERS = "users"
"""The projection (and its table) the credentials come from."""


@dataclass(frozen=True, slots=True)
class Credential:
    role: str
    forgotten: bool
    version: int | None
    """How many times the password changed (None: a generation without the column)."""


class Listener(Protocol):
    """What follows the projections' notices (see :func:`follow_notices`)."""

    listening: bool

    def subscribed(self, positions: Mapping[str, int]) -> None: ...

    def heard_notice(self, notice: Mapping[str, Any]) -> None: ...

    def cut_off(self) -> None: ...


async def follow_notices(
    bus: Bus, listener: Listener, positions: Callable[[], Awaitable[Mapping[str, int]]],
    what: str,
) -> None:
    """Hand ``listener`` every projection notice until cancelled; tell it when cut off.

    ``positions`` gives the runner's positions once subscribed: notices from
    before the subscription are then known without having been heard.
    """
    while True:
        try:
            async with bus.subscribe(PROJECTIONS_CHANNEL) as notices:
                listener.subscribed(await positions())
                listener.listening = True
                async for notice in notices:
                    listener.heard_notice(notice)
        except asyncio.CancelledError:
            raise
        except (BusError, RuntimeError) as error:
            log.info("%s: notices cut off (%r); resubscribing", what, error)
        except Exception:  # anything else: say so, serve nothing from memory, try again
            log.exception("%s: following the notices failed; resubscribing", what)
        finally:
            listener.listening = False
            listener.cut_off()
        await asyncio.sleep(RESUBSCRIBE_DELAY)


class Credentials:
    """Members' credentials by user id, exact while the users projection's notices are heard."""

    def __init__(self, *, max_entries: int = 100_000,
                 positions: Callable[[], Mapping[str, int]] | None = None) -> None:
        self.max_entries = max_entries
        self.positions = positions
        """The runner's applied positions, read in memory (no database)."""
        self.listening = False
        self.heard = 0
        """The newest position of the users projection's notices."""
        self.epoch = 0
        self.hits = self.misses = 0
        self._known: dict[str, Credential | None] = {}

    def __len__(self) -> int:
        return len(self._known)

    def _exact(self) -> bool:
        if not self.listening:
            return False
        applied = self.positions() if self.positions is not None else {}
        return applied.get(USERS, 0) <= self.heard

    def known(self, user_id: str) -> tuple[bool, Credential | None]:
        """(True, what is known) from memory, or (False, None): read the table."""
        if self._exact() and user_id in self._known:
            self.hits += 1
            return True, self._known[user_id]
        self.misses += 1
        return False, None

    def ticket(self) -> int | None:
        """Taken before reading the table; None when the row could not be kept anyway."""
        return self.epoch if self._exact() else None

    def keep(self, ticket: int | None, user_id: str, found: Credential | None) -> None:
        if ticket is None or ticket != self.epoch:
            return  # a notice arrived meanwhile: the row read may predate it
        if len(self._known) >= self.max_entries:
            self._known.clear()
        self._known[user_id] = found

    def subscribed(self, positions: Mapping[str, int]) -> None:
        self.forget_all()
        self.heard = max(self.heard, positions.get(USERS, 0))

    def cut_off(self) -> None:
        self.forget_all()

    def forget_all(self) -> None:
        self.epoch += 1
        self._known.clear()

    def heard_notice(self, notice: Mapping[str, Any]) -> None:
        if notice.get("projection") != USERS:
            return
        position = notice.get("position")
        if not isinstance(position, int):
            return  # a request (rebuild, retry): its outcome comes as a notice of its own
        tables = notice.get("tables")
        if not isinstance(tables, list):
            self.forget_all()  # a new generation, or writes nobody named: anything changed
        elif USERS in tables:
            ids = [str(c.get("id")) for c in notice.get("changes") or ()
                   if isinstance(c, dict) and c.get("kind") == "user"]
            if not ids:
                self.forget_all()  # the table changed, but which rows is not said
            self.epoch += 1
            for user_id in ids:
                self._known.pop(user_id, None)
        self.heard = max(self.heard, position)
