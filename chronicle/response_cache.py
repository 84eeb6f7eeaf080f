"""An exact response cache: a query's answer stays until a batch changes a table it read.

Event sourcing knows when an answer changes: only when a projection applies a
batch. The runner announces every applied batch on ``PROJECTIONS_CHANNEL``
with the read tables it wrote (every process hears it, the applying one and
the others alike), so an entry lives until such a notice names a table it
read. There is no time to live.

What an answer is filed under (its key, its ETag) is ``chronicle.cache_keys``'s;
the bounded memory of entries and their tags is ``chronicle.cache_entries``'s;
serving hits and storing misses at the ASGI level is ``chronicle.cache_front``'s.
This module keeps the rules of when an entry may be served or stored:

- **Positions**: ``heard[p]`` is the newest position of ``p``'s notices. An
  entry computed at ``P`` (what every projection had at least applied) is
  exact through ``max(P, min heard)``: any batch up to there that wrote a
  table it read would have evicted it. A request with ``X-Min-Position``
  beyond that is not served from the cache. The applying process also asks
  the runner (``positions``): a batch applied but not yet announced makes the
  cache miss, so a client that wrote and reads back never sees the answer
  from before its write.
- **Races**: an answer is not stored if a notice that could have evicted it
  arrived while it was computed (``epoch`` and the recent notices' tables);
  while the bus subscription is down nothing is served or stored.
- **Concurrent misses** of one shared key: the first runs the executor, the
  others wait for it (bounded) and then look again, so they get its answer
  only if it was stored, by the rules above. Keys whose last answer was a
  member's own are not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chronicle.cache_entries import ANY, Entry, TaggedEntries, tags_of
from chronicle.cache_keys import Key, etag_of
from events.bus import Bus
from events.read_recording import Reads
from resolvers.credentials import follow_notices

RECENT_NOTICES = 1024
"""Notices remembered for the race check; a miss that saw more arrive is not stored."""
FLIGHT_WAIT = 5.0
"""Seconds a concurrent miss waits for the first one's answer before running its own."""


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a miss remembers until its answer is stored: the state it started from."""

    shared: Key
    own: Key | None
    """The member's own key (None for anonymous callers, who are all one caller)."""
    epoch: int
    position: int
    leads: bool = False
    """Other misses of ``shared`` wait for this one's answer."""


class ResponseCache(TaggedEntries):
    """A bounded LRU of answers (entries and bytes), evicted by projection notices."""

    def __init__(
        self, *, max_entries: int, max_bytes: int, projections: frozenset[str],
        read_model: frozenset[str] = frozenset(),
        positions: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        super().__init__(max_entries=max_entries, max_bytes=max_bytes)
        self.projections = projections
        self.read_model = read_model
        """The read tables' names in the projections: the tags notices may name."""
        self.positions = positions
        """The runner's applied positions, read in memory (no database)."""
        self.heard: dict[str, int] = dict.fromkeys(projections, 0)
        self.epoch = 0
        self.listening = False
        self.hits = self.misses = 0
        self._recent: deque[frozenset[str] | None] = deque(maxlen=RECENT_NOTICES)
        """The tables of the latest notices (None: anything), one per epoch."""
        self._flights: dict[Key, asyncio.Event] = {}
        self._personal: OrderedDict[Key, None] = OrderedDict()
        """Shared keys whose latest answer was a member's own: no miss waits for them."""

    def known_through(self) -> int:
        """The position through which every notice has been heard, for every projection."""
        return min(self.heard.values(), default=0)

    def _unheard_batches(self) -> bool:
        if self.positions is None:
            return False
        applied = self.positions()
        return any(applied.get(name, 0) > self.heard.get(name, 0) for name in self.projections)

    # --- lookups ------------------------------------------------------------

    def find(self, shared: Key, own: Key | None, min_position: int | None) -> Entry | None:
        """The entry answering the caller (shared first, then their own), or None."""
        if not self.listening or self._unheard_batches():
            return None
        for key in (shared, own):
            if key is None or (entry := self._entries.get(key)) is None:
                continue
            if min_position is not None and min_position > max(entry.position,
                                                               self.known_through()):
                return None
            self._entries.move_to_end(key)
            return entry
        return None

    def lookup(self, shared: Key, own: Key | None, min_position: int | None) -> Entry | None:
        """:meth:`find`, counted as a hit or a miss."""
        entry = self.find(shared, own, min_position)
        self.count(entry is not None)
        return entry

    def count(self, hit: bool) -> None:
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    def flight(self, shared: Key) -> asyncio.Event | None:
        """Set when the miss running ``shared`` is done; None: no miss worth waiting for."""
        return None if shared in self._personal else self._flights.get(shared)

    async def wait_for_flight(self, shared: Key) -> bool:
        """Wait (bounded) for the miss running ``shared``; False if there was none."""
        flight = self.flight(shared)
        if flight is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flight.wait(), FLIGHT_WAIT)
        return True

    # --- storing ------------------------------------------------------------

    def ticket(self, shared: Key, own: Key | None, *, lead: bool = True) -> Ticket | None:
        """Taken before a miss runs; None when its answer could not be stored anyway."""
        if not self.listening or self._unheard_batches():
            return None
        leads = lead and shared not in self._flights
        if leads:
            self._flights[shared] = asyncio.Event()
        return Ticket(shared, own, self.epoch, self.known_through(), leads)

    def land(self, ticket: Ticket) -> None:
        """The miss is over (stored or not): release the misses waiting for it."""
        if ticket.leads:
            flight = self._flights.pop(ticket.shared, None)
            if flight is not None:
                flight.set()

    def _changed_since(self, epoch: int, tags: frozenset[str]) -> bool:
        """Whether a notice since ``epoch`` may have changed what ``tags`` name."""
        missed = self.epoch - epoch
        if missed > len(self._recent):
            return True  # more arrived than are remembered
        for i in range(1, missed + 1):
            tables = self._recent[-i]
            if tables is None or ANY in tags or tags & tables:
                return True
        return False

    def store(self, ticket: Ticket, data: bytes, cost: int, min_position: int | None,
              *, personal: bool, reads: Reads) -> str:
        """Keep an answer computed since ``ticket``; returns its ETag either way.

        ``personal``: its execution read who asks (``RequestContext.read_caller``).
        """
        etag = etag_of(data)
        key = ticket.own if personal and ticket.own is not None else ticket.shared
        self._remember_personal(ticket.shared, personal and ticket.own is not None)
        tags = tags_of(reads, self.read_model)
        if self._changed_since(ticket.epoch, tags):
            return etag  # an eviction arrived meanwhile: the answer may predate it
        position = max(ticket.position, min_position or 0)
        self._keep(key, Entry(data, etag, cost, position, tags))
        return etag

    def _remember_personal(self, shared: Key, personal: bool) -> None:
        if not personal:
            self._personal.pop(shared, None)
            return
        self._personal[shared] = None
        self._personal.move_to_end(shared)
        if len(self._personal) > self.max_entries:
            self._personal.popitem(last=False)

    # --- notices ------------------------------------------------------------

    def heard_notice(self, notice: Mapping[str, Any]) -> None:
        """A projection applied a batch (or swapped a generation in): evict what read it."""
        name = str(notice.get("projection"))
        position = notice.get("position")
        if not isinstance(position, int):
            return  # a request (rebuild, retry): its outcome comes as a notice of its own
        self.heard[name] = max(self.heard.get(name, 0), position)
        tables = notice.get("tables")
        if isinstance(tables, list) and all(isinstance(t, str) for t in tables):
            self.evict(frozenset(tables))
        else:
            self.evict()

    def evict(self, tables: frozenset[str] | None = None) -> None:
        """Drop the entries that read ``tables`` or anything unnamed (every entry when None)."""
        self.epoch += 1
        self._recent.append(tables)
        self._drop_tagged(tables)

    def subscribed(self, positions: Mapping[str, int]) -> None:
        self.evict()
        self.heard.update(positions)

    def cut_off(self) -> None:
        self.evict()

    async def follow(self, bus: Bus, heard: Callable[[], Any]) -> None:
        """Listen to projection notices until cancelled; serve nothing while cut off.

        ``heard`` gives the runner's positions once subscribed: notices from
        before the subscription are then known without having been heard.
        """
        await follow_notices(bus, self, heard, "response cache")
