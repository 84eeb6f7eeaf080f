"""How long a websocket speaks for its member: closed with 4403 once their identity ends.

A socket identified by a token is held here until it closes. It is closed (by
the ``close`` its handler gave) when the token expires, when the member is
forgotten, and when their password changes, so that clients refresh their
credentials (``schema.sockets`` has the protocols' side of it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from domain import user
from domain.repository import load
from domain.security import TokenClaims
from events.bus import EVENTS_CHANNEL, Bus, BusError
from events.store import SqlEventStore

RETRY_DELAY: Final = 1.0
"""Seconds before the identity follower retries after a failed read."""
ENDS_IDENTITY: Final = ("PasswordChanged", "UserForgotten")
"""Events after which a member's open sockets may no longer speak for them."""

log = logging.getLogger(__name__)

Close = Callable[[], Awaitable[None]]


@dataclass(eq=False, slots=True)
class Held:
    """One open socket speaking for a member."""

    claims: TokenClaims
    close: Close
    expiry: asyncio.TimerHandle | None = None
    ended: bool = False
    closing: asyncio.Task[None] | None = field(default=None, repr=False)


class Identities:
    """Every open socket by member, closed with 4403 once its identity ends.

    One follower per process reads the log for the events that end an identity
    (:data:`ENDS_IDENTITY`) and checks the member's sockets against the write
    model. Bus notices only wake it; it reads the store from where it stopped,
    so a lost notice delays a close but never loses it (the bus raises when
    notices were lost, and the follower then re-reads from its position).
    """

    def __init__(self, store: SqlEventStore, bus: Bus | None) -> None:
        self._store = store
        self._bus = bus
        self._sockets: dict[str, set[Held]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._started = asyncio.Event()

    async def start(self) -> None:
        if self._bus is None:
            return
        self._follower = asyncio.create_task(self._follow(), name="chronicle-socket-identities")
        follower = self._follower
        waiting = asyncio.create_task(self._started.wait())
        await asyncio.wait({follower, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if follower.done():
            follower.result()  # a follower that could not start fails the start-up

    async def stop(self) -> None:
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        for held in [h for sockets in self._sockets.values() for h in sockets]:
            self.release(held)

    async def hold(self, claims: TokenClaims, close: Close) -> Held:
        """Watch a socket that a token identified; ``close`` closes it with 4403."""
        held = Held(claims, close)
        self._sockets.setdefault(claims.user_id, set()).add(held)
        delay = max(0.0, claims.expires_at - time.time())
        held.expiry = asyncio.get_running_loop().call_later(delay, self._end, held)
        # Registered first, then checked against the log: a change committed
        # before the registration is seen here, any later one by the follower.
        await self._check(claims.user_id)
        return held

    def release(self, held: Held) -> None:
        """The socket is gone: stop watching it."""
        if held.expiry is not None:
            held.expiry.cancel()
        sockets = self._sockets.get(held.claims.user_id)
        if sockets is not None:
            sockets.discard(held)
            if not sockets:
                del self._sockets[held.claims.user_id]

    def _end(self, held: Held) -> None:
        if held.ended:
            return
        held.ended = True
        self.release(held)
        held.closing = asyncio.create_task(self._close(held))

    @staticmethod
    async def _close(held: Held) -> None:
        try:
            await held.close()
        except Exception:  # the socket went away on its own meanwhile
            log.debug("closing a socket whose identity ended failed", exc_info=True)

    async def _check(self, user_id: str) -> None:
        """Close the member's sockets that their current state no longer accepts."""
        if not self._sockets.get(user_id):
            return
        member = (await load(self._store, user.AGGREGATE, user_id)).state
        for held in list(self._sockets.get(user_id, ())):
            if member.forgotten or held.claims.credentials < member.credentials:
                self._end(held)

    async def _follow(self) -> None:
        bus, store = self._bus, self._store
        assert bus is not None
        checked = await store.head_position()
        while True:
            try:
                async with bus.subscribe(EVENTS_CHANNEL) as notices:
                    self._started.set()
                    checked = await self._catch_up(checked)
                    async for notice in notices:
                        kinds = notice.get("types")
                        if isinstance(kinds, list) and not set(kinds) & set(ENDS_IDENTITY):
                            continue
                        checked = await self._catch_up(checked)
                return  # the bus shut down cleanly: the server is stopping
            except BusError:
                continue  # notices were lost: subscribe again, then re-read the store
            except Exception:
                # A failed read must not end the watch for good: retry from `checked`.
                log.exception("following the events that end identities failed; retrying")
                await asyncio.sleep(RETRY_DELAY)

    async def _catch_up(self, after: int) -> int:
        """Check the members named by identity-ending events after ``after``; the new position."""
        store = self._store
        head = await store.head_position()
        while after < head:
            batch = await store.read_all(
                after=after, limit=500, types=ENDS_IDENTITY, to_position=head
            )
            for user_id in dict.fromkeys(str(e.data.get("user_id")) for e in batch):
                try:
                    await self._check(user_id)
                except Exception:
                    log.exception("checking the sockets of member %s failed", user_id)
            if len(batch) < 500:
                break
            after = batch[-1].position
        return max(after, head)
