"""An exact response cache: a query's answer stays until a batch changes a table it read.

Event sourcing knows when an answer changes: only when a projection applies a
batch. The runner announces every applied batch on ``PROJECTIONS_CHANNEL``
with the read tables it wrote (every process hears it, the applying one and
the others alike), so an entry lives until such a notice names a table it
read. There is no time to live.

- **Key**: the document, the operation name, the variables (canonical JSON),
  the caller's visibility class (anonymous, member or admin: the role is
  always in the key) and, only for an answer that depends on who asks, the
  member's id. Which answers do: the request context records every read of
  the caller (``RequestContext.actor``, one descriptor that every resolver
  path goes through: ``me``, ``email``, ``likedByMe``, drafts and other
  statuses, the past's visibility, the log's). An answer whose execution
  never read it is computed from the document, the variables, the read
  model and the class alone, so it is the answer for every caller of the
  class: it is stored under the class's *shared* key. One that did read it
  goes under the member's *own* key. Lookups try the shared key, then the
  own one. What reads the caller before execution (the token check, this
  key, the cost budget) uses ``RequestContext.identity``, which records
  nothing and appears in no resolver.
- **What**: the ``data`` of query answers without errors, serialized, with the
  operation's cost (the budget is charged again on every hit) and an ETag.
- **Tags**: the read tables the execution read (``events.read_recording``: every
  driver-level read names its tables, every statement through the engine is
  seen by SQLAlchemy's ``before_execute`` event), by their names in the
  projections. A notice evicts the entries tagged with a table it names.
  Anything else is tagged ``ANY`` and evicted by every notice: a read of the
  log or of bookkeeping tables, text SQL, a table of no projection. A notice
  without ``tables`` (a swapped generation) evicts everything.
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
import hashlib
import re
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from domain.errors import InvalidInput
from domain.ports import Actor
from events.bus import Bus
from events.read_recording import Reads
from resolvers.credentials import follow_notices
from schema.context import parse_position

Key = tuple[str, str | None, bytes, str, str | None]
"""(document, operation name, variables as canonical JSON, visibility class, member id
or None: the class's shared key)."""

ANY = "*"
"""The tag of an entry that read something no notice names: every notice evicts it."""
RECENT_NOTICES = 1024
"""Notices remembered for the race check; a miss that saw more arrive is not stored."""
FLIGHT_WAIT = 5.0
"""Seconds a concurrent miss waits for the first one's answer before running its own."""
_REQUEST_KEYS = frozenset({"query", "operationName", "variables", "extensions"})
_GENERATION = re.compile(r"(.+)_g[0-9]+")


@dataclass(frozen=True, slots=True)
class Entry:
    data: bytes
    """The answer's ``data``, serialized."""
    etag: str
    cost: int
    position: int
    """What every projection had at least applied when it was computed."""
    tags: frozenset[str]
    """The read tables it read, by their names in the projections (or ``ANY``)."""


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


class ResponseCache:
    """A bounded LRU of answers (entries and bytes), evicted by projection notices."""

    def __init__(
        self, *, max_entries: int, max_bytes: int, projections: frozenset[str],
        read_model: frozenset[str] = frozenset(),
        positions: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.projections = projections
        self.read_model = read_model
        """The read tables' names in the projections: the tags notices may name."""
        self.positions = positions
        """The runner's applied positions, read in memory (no database)."""
        self.heard: dict[str, int] = dict.fromkeys(projections, 0)
        self.epoch = 0
        self.listening = False
        self.hits = self.misses = self.evictions = 0
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._tagged: dict[str, set[Key]] = {}
        self._bytes = 0
        self._recent: deque[frozenset[str] | None] = deque(maxlen=RECENT_NOTICES)
        """The tables of the latest notices (None: anything), one per epoch."""
        self._flights: dict[Key, asyncio.Event] = {}
        self._personal: OrderedDict[Key, None] = OrderedDict()
        """Shared keys whose latest answer was a member's own: no miss waits for them."""

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

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

    def tags_of(self, reads: Reads) -> frozenset[str]:
        """What an execution's reads are tagged with: read tables by their projection names."""
        if reads.unknown:
            return frozenset({ANY})
        tags = set()
        for name in reads.tables:
            found = _GENERATION.fullmatch(name)
            logical = found.group(1) if found else None
            tags.add(logical if logical in self.read_model else ANY)
        return frozenset(tags)

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
        tags = self.tags_of(reads)
        if (self._changed_since(ticket.epoch, tags) or len(data) > self.max_bytes
                or not self.max_entries):
            return etag  # an eviction arrived meanwhile: the answer may predate it
        position = max(ticket.position, min_position or 0)
        self._drop(key)
        self._entries[key] = Entry(data, etag, cost, position, tags)
        for tag in tags:
            self._tagged.setdefault(tag, set()).add(key)
        self._bytes += len(data)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
            self.evictions += 1
        return etag

    def _remember_personal(self, shared: Key, personal: bool) -> None:
        if not personal:
            self._personal.pop(shared, None)
            return
        self._personal[shared] = None
        self._personal.move_to_end(shared)
        if len(self._personal) > self.max_entries:
            self._personal.popitem(last=False)

    def _drop(self, key: Key) -> bool:
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        self._bytes -= len(entry.data)
        for tag in entry.tags:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]
        return True

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
        if tables is None:
            self.evictions += len(self._entries)
            self._entries.clear()
            self._tagged.clear()
            self._bytes = 0
            return
        for tag in (ANY, *tables):
            for key in list(self._tagged.get(tag, ())):
                if self._drop(key):
                    self.evictions += 1

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


def cacheable(
    body: bytes, min_position_header: str | None
) -> tuple[tuple[str, str | None, bytes], int | None] | None:
    """(document, operation name, canonical variables) and minPosition, or None: uncacheable."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    # Extensions may change the answer (minPosition); even 0 or false is the executor's.
    if not isinstance(payload, dict) or payload.get("extensions") not in (None, {}) or (
        payload.keys() - _REQUEST_KEYS
    ):
        return None
    query, name, variables = (
        payload.get("query"), payload.get("operationName"), payload.get("variables")
    )
    if not isinstance(query, str) or not isinstance(name, str | None) or not isinstance(
        variables, dict | None
    ):
        return None
    try:
        min_position = parse_position(min_position_header, "minPosition")
    except InvalidInput:
        return None
    # Kept in every entry's key: a right-sized copy, not orjson's 4 KiB buffer.
    canonical = bytes(memoryview(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)))
    return (query, name, canonical), min_position


def keys(request: tuple[str, str | None, bytes], actor: Actor | None) -> tuple[Key, Key | None]:
    """The shared key of the caller's visibility class, and the member's own (None for
    anonymous callers). The role is in both: an admin's answer is never a member's."""
    query, name, variables = request
    if actor is None:
        return (query, name, variables, "anonymous", None), None
    kind = "admin" if actor.is_admin else "member"
    return (query, name, variables, kind, None), (query, name, variables, kind, actor.user_id)


def etag_of(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` names the ETag (or ``*``), weak comparison as RFC 9110 says."""
    if not if_none_match:
        return False
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in wanted or etag in wanted
