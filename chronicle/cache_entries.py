"""The response cache's memory: a bounded LRU of answers, indexed by the tables they read.

- **What**: the ``data`` of query answers without errors, serialized, with the
  operation's cost (the budget is charged again on every hit) and an ETag.
- **Tags**: the read tables the execution read (``events.read_recording``: every
  driver-level read names its tables, every statement through the engine is
  seen by SQLAlchemy's ``before_execute`` event), by their names in the
  projections. A notice evicts the entries tagged with a table it names.
  Anything else is tagged ``ANY`` and evicted by every notice: a read of the
  log or of bookkeeping tables, text SQL, a table of no projection. A notice
  without ``tables`` (a swapped generation) evicts everything.
- **Bounds**: entries and bytes; past either, the least recently used go. An
  answer larger than the whole memory is never kept.

When an entry may be served or stored is ``chronicle.response_cache``'s.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from chronicle.cache_keys import Key
from events.read_recording import Reads

ANY = "*"
"""The tag of an entry that read something no notice names: every notice evicts it."""
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


def tags_of(reads: Reads, read_model: frozenset[str]) -> frozenset[str]:
    """What an execution's reads are tagged with: read tables by their projection names
    (``read_model``: the names notices may give)."""
    if reads.unknown:
        return frozenset({ANY})
    tags = set()
    for name in reads.tables:
        found = _GENERATION.fullmatch(name)
        logical = found.group(1) if found else None
        tags.add(logical if logical in read_model else ANY)
    return frozenset(tags)


class TaggedEntries:
    """Entries by key, least recently used first, within ``max_entries`` and ``max_bytes``,
    and by tag for eviction. The response cache builds on it (``self._entries`` is read
    directly on a hit: no call between a lookup and the dict)."""

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.evictions = 0
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._tagged: dict[str, set[Key]] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def _keep(self, key: Key, entry: Entry) -> None:
        """Hold ``entry`` under ``key`` (in place of any before it), dropping the least
        recently used past the bounds; an entry larger than them all is not kept."""
        if len(entry.data) > self.max_bytes or not self.max_entries:
            return
        self._drop(key)
        self._entries[key] = entry
        for tag in entry.tags:
            self._tagged.setdefault(tag, set()).add(key)
        self._bytes += len(entry.data)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
            self.evictions += 1

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

    def _drop_tagged(self, tables: frozenset[str] | None) -> None:
        """Drop the entries tagged with ``tables`` or ``ANY`` (every entry when None)."""
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
