"""Keyset pagination: opaque cursors over each connection's sort key, bounded pages.

A cursor is base64 of a small JSON array holding the sort key of the last row
seen; the next page starts strictly past it, so rows inserted meanwhile never
shift or repeat a page (unlike offsets).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import validation
from domain.errors import InvalidInput

T = TypeVar("T")


Count = Callable[[], Awaitable[int]]
"""Counts the rows under the page's filters; only called when totalCount is asked for."""


def counting(engine: AsyncEngine, query: Select[Any]) -> Count:
    """A count statement, run on its own connection if and when it is wanted."""

    async def count() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    return count


def known_count(value: int) -> Count:
    async def count() -> int:
        return value

    return count


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a connection: rows with their cursors, and what lies beyond."""

    edges: list[tuple[str, T]]
    has_next_page: bool
    count: Count
    resume_after: str | None = None
    """Where the next page starts when the scan stopped past the last edge."""

    @property
    def end_cursor(self) -> str | None:
        if self.resume_after is not None:
            return self.resume_after
        return self.edges[-1][0] if self.edges else None

    @property
    def nodes(self) -> list[T]:
        return [node for _, node in self.edges]


def encode_cursor(kind: str, *key: Any) -> str:
    if all(type(k) is int for k in key):
        # Every edge of a page gets one: skip the JSON encoder for the usual int keys.
        raw = f'["{kind}",{",".join(map(str, key))}]'.encode()
    else:
        raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_CURSOR = 200
"""Longer than any cursor this module writes; a longer one is refused unread."""
MAX_KEY = 2**63 - 1
"""Sort keys are positions: a BIGINT in every backend."""


def decode_cursor(cursor: str | None, kind: str, field: str = "after") -> list[Any] | None:
    """The sort key inside ``cursor``; BAD_USER_INPUT if it is not one of ours for ``kind``."""
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR:
        raise InvalidInput(field, "Invalid cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        raise InvalidInput(field, "Invalid cursor") from None
    if not isinstance(value, list) or len(value) < 2 or value[0] != kind:
        raise InvalidInput(field, "Invalid cursor")
    return value[1:]


def int_cursor(cursor: str | None, kind: str, field: str = "after") -> int | None:
    key = decode_cursor(cursor, kind, field)
    if key is None:
        return None
    if len(key) != 1 or type(key[0]) is not int or not 0 <= key[0] <= MAX_KEY:
        raise InvalidInput(field, "Invalid cursor")
    return key[0]


def str_cursor(cursor: str | None, kind: str, field: str = "after") -> str | None:
    key = decode_cursor(cursor, kind, field)
    if key is None:
        return None
    if len(key) != 1 or not isinstance(key[0], str) or not validation.one_line(key[0]):
        raise InvalidInput(field, "Invalid cursor")
    return key[0]


def check_first(first: int | None, max_page_size: int, default: int) -> int:
    """Page sizes above the cap are refused rather than silently clamped."""
    if first is None:
        return default
    if first < 0:
        raise InvalidInput("first", "first must not be negative")
    if first > max_page_size:
        raise InvalidInput("first", f"first must be at most {max_page_size}")
    return first


def make_page(
    rows: Sequence[T], first: int, count: Count, cursor_of: Callable[[T], str],
    start: str | None = None,
) -> Page[T]:
    """``rows`` was fetched with ``first + 1`` as limit: the extra row means there is more.

    A page of ``first: 0`` has no edge to end on: when rows lie beyond it, its
    ``endCursor`` is where it started (``start``: the ``after`` it was given, or
    a cursor before the first row), so that following it never loops or skips.
    """
    shown = rows[:first]
    more = len(rows) > first
    resume = start if more and not shown else None
    return Page([(cursor_of(r), r) for r in shown], more, count, resume)
