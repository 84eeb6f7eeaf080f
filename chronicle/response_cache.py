"""An exact response cache: a query's answer stays until a projection it read moves.

Event sourcing knows when an answer changes: only when a projection applies a
batch. The runner announces every applied batch on ``PROJECTIONS_CHANNEL``
(every process hears it, the applying one and the others alike), so an entry
lives until such a notice arrives for a projection it is tagged with. There is
no time to live.

- **Key**: the document, the operation name, the variables (canonical JSON)
  and the caller: visibility class and member id. Every signed-in caller gets
  entries of their own (``likedByMe``, ``me``, ``email``, drafts); anonymous
  callers share.
- **What**: the ``data`` of query answers without errors, serialized, with the
  operation's cost (the budget is charged again on every hit) and an ETag.
- **Tags**: the projections an entry may have read. Which tables a document
  reads is not known without executing it, so every entry is tagged with
  every projection: any applied batch evicts everything.
- **Positions**: ``heard[p]`` is the newest position of ``p``'s notices. An
  entry computed at ``P`` (what its projections had at least applied) is exact
  through ``max(P, min heard)``: any batch up to there would have evicted it.
  A request with ``X-Min-Position`` beyond that is not served from the cache.
  The applying process also asks the runner (``positions``): a batch applied
  but not yet announced makes the cache miss, so a client that wrote and reads
  back never sees the answer from before its write.
- **Races**: an answer computed while an eviction arrived is not stored
  (``epoch``); while the bus subscription is down nothing is served or stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from domain.errors import InvalidInput
from domain.ports import Actor
from events.bus import PROJECTIONS_CHANNEL, Bus, BusError
from schema.context import parse_position

log = logging.getLogger(__name__)

Key = tuple[str, str | None, bytes, str, str | None]
"""(document, operation name, variables as canonical JSON, visibility class, member id)."""

RESUBSCRIBE_DELAY = 0.5
_REQUEST_KEYS = frozenset({"query", "operationName", "variables", "extensions"})


@dataclass(frozen=True, slots=True)
class Entry:
    data: bytes
    """The answer's ``data``, serialized."""
    etag: str
    cost: int
    position: int
    """What every projection of ``tags`` had at least applied when it was computed."""
    tags: frozenset[str]


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a miss remembers until its answer is stored: the state it started from."""

    key: Key
    epoch: int
    position: int


class ResponseCache:
    """A bounded LRU of answers (entries and bytes), evicted by projection notices."""

    def __init__(
        self, *, max_entries: int, max_bytes: int, tags: frozenset[str],
        positions: Callable[[], Mapping[str, int]] | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.tags = tags
        self.positions = positions
        """The runner's applied positions, read in memory (no database)."""
        self.heard: dict[str, int] = dict.fromkeys(tags, 0)
        self.epoch = 0
        self.listening = False
        self.hits = self.misses = self.evictions = 0
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def known_through(self) -> int:
        """The position through which every notice has been heard, for every tag."""
        return min(self.heard.values(), default=0)

    def _unheard_batches(self) -> bool:
        if self.positions is None:
            return False
        applied = self.positions()
        return any(applied.get(name, 0) > self.heard.get(name, 0) for name in self.tags)

    def get(self, key: Key, min_position: int | None) -> Entry | None:
        entry = self._entries.get(key) if self.listening else None
        if entry is None or self._unheard_batches():
            self.misses += 1
            return None
        if min_position is not None and min_position > max(entry.position, self.known_through()):
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def ticket(self, key: Key) -> Ticket | None:
        """Taken before a miss runs; None when its answer could not be stored anyway."""
        if not self.listening or self._unheard_batches():
            return None
        return Ticket(key, self.epoch, self.known_through())

    def store(self, ticket: Ticket, data: bytes, cost: int, min_position: int | None) -> str:
        """Keep an answer computed since ``ticket``; returns its ETag either way."""
        etag = etag_of(data)
        if ticket.epoch != self.epoch or len(data) > self.max_bytes or not self.max_entries:
            return etag  # an eviction arrived meanwhile: the answer may predate it
        position = max(ticket.position, min_position or 0)
        old = self._entries.pop(ticket.key, None)
        if old is not None:
            self._bytes -= len(old.data)
        self._entries[ticket.key] = Entry(data, etag, cost, position, self.tags)
        self._bytes += len(data)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.data)
            self.evictions += 1
        return etag

    def heard_notice(self, notice: Mapping[str, Any]) -> None:
        """A projection applied a batch (or swapped a generation in): evict what read it."""
        name = str(notice.get("projection"))
        position = notice.get("position")
        if not isinstance(position, int):
            return  # a request (rebuild, retry): its outcome comes as a notice of its own
        self.heard[name] = max(self.heard.get(name, 0), position)
        self.evict(name)

    def evict(self, tag: str | None = None) -> None:
        """Drop the entries tagged ``tag`` (every entry when None)."""
        self.epoch += 1
        if tag is None:
            self.evictions += len(self._entries)
            self._entries.clear()
            self._bytes = 0
            return
        for key in [k for k, e in self._entries.items() if tag in e.tags]:
            self._bytes -= len(self._entries.pop(key).data)
            self.evictions += 1

    async def follow(self, bus: Bus, heard: Callable[[], Any]) -> None:
        """Listen to projection notices until cancelled; serve nothing while cut off.

        ``heard`` gives the runner's positions once subscribed: notices from
        before the subscription are then known without having been heard.
        """
        while True:
            try:
                async with bus.subscribe(PROJECTIONS_CHANNEL) as notices:
                    self.evict()
                    self.heard.update(await heard())
                    self.listening = True
                    async for notice in notices:
                        self.heard_notice(notice)
            except asyncio.CancelledError:
                raise
            except (BusError, RuntimeError) as error:
                log.info("response cache: notices cut off (%r); resubscribing", error)
            except Exception:  # anything else: say so, serve nothing cached, try again
                log.exception("response cache: following the notices failed; resubscribing")
            finally:
                self.listening = False
                self.evict()
            await asyncio.sleep(RESUBSCRIBE_DELAY)


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
    return (query, name, orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)), min_position


def visibility(actor: Actor | None) -> tuple[str, str | None]:
    """Who may see what: anonymous callers share entries; every member has their own."""
    if actor is None:
        return "anonymous", None
    return ("admin" if actor.is_admin else "member"), actor.user_id


def etag_of(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` names the ETag (or ``*``), weak comparison as RFC 9110 says."""
    if not if_none_match:
        return False
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in wanted or etag in wanted
