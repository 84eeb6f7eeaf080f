"""The posts' past, as readers want it: selectables with the ``posts`` table's column names.

The posts projection keeps a post's content and its counts in two histories
(see ``projections.tables``); readers must not care. ``posts_as_of(tables, P)``
is the ``posts`` table as it stood at head position P, and ``post_states``
every state a post row ever had, with its ``valid_from`` and ``valid_to``;
both work for either shape of a generation, so a reader swaps the table it
named for one of these and changes nothing else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, select

from projections.tables import FOREVER, ReadTables


def _later(a: ColumnElement[int], b: ColumnElement[int]) -> ColumnElement[int]:
    """GREATEST on PostgreSQL, two-argument max() on SQLite: spelled portably."""
    return case((a > b, a), else_=b)


def _earlier(a: ColumnElement[int], b: ColumnElement[int]) -> ColumnElement[int]:
    return case((a < b, a), else_=b)


def posts_as_of(tables: ReadTables, at: int) -> Subquery:
    """The rows of ``tables.posts`` as they were at head position ``at`` (deleted posts gone).

    The content rows valid at ``at`` drive; each finds its counts with one
    seek for the post's last counts row at or before ``at``.
    """
    h, c, posts = tables.post_history, tables.post_counts, tables.posts
    if c is None:  # an older generation: one history of whole rows
        return (
            select(*(h.c[col.name] for col in posts.c))
            .where(h.c.valid_from <= at, h.c.valid_to > at)
            .subquery("posts_as_of")
        )
    earlier = c.alias("earlier_counts")
    last = (
        select(func.max(earlier.c.valid_from))
        .where(earlier.c.created_position == h.c.created_position, earlier.c.valid_from <= at)
        .correlate(h)
        .scalar_subquery()
    )
    return (
        select(*_columns(tables, position=_later(h.c.valid_from, c.c.valid_from)))
        .select_from(h.join(c, c.c.created_position == h.c.created_position))
        .where(h.c.valid_from <= at, h.c.valid_to > at, c.c.valid_from == last)
        .subquery("posts_as_of")
    )


def post_states(tables: ReadTables) -> Subquery:
    """Every state a post row had, as ``posts`` columns plus ``valid_from`` and ``valid_to``.

    For lookups by post id (the feed's "as last published", the author of a
    deleted post): unfiltered, it is the whole history.
    """
    h, c, posts = tables.post_history, tables.post_counts, tables.posts
    if c is None:
        return select(
            *(h.c[col.name] for col in posts.c), h.c.valid_from, h.c.valid_to
        ).subquery("post_states")
    # A counts row lasts until the post's next one; a state is where a content
    # interval and a counts interval overlap.
    later = c.alias("later_counts")
    counts_to = func.coalesce(
        select(func.min(later.c.valid_from))
        .where(later.c.created_position == c.c.created_position,
               later.c.valid_from > c.c.valid_from)
        .correlate(c)
        .scalar_subquery(),
        FOREVER,
    )
    valid_from = _later(h.c.valid_from, c.c.valid_from)
    return (
        select(
            *_columns(tables, position=valid_from),
            valid_from.label("valid_from"),
            _earlier(h.c.valid_to, counts_to).label("valid_to"),
        )
        .select_from(h.join(c, and_(
            c.c.created_position == h.c.created_position,
            c.c.valid_from < h.c.valid_to,
            counts_to > h.c.valid_from,
        )))
        .subquery("post_states")
    )


def _columns(tables: ReadTables, *, position: ColumnElement[int]) -> list[ColumnElement[Any]]:
    """The ``posts`` columns, in order, from content and counts history."""
    h, c = tables.post_history, tables.post_counts
    assert c is not None
    columns: list[ColumnElement[Any]] = []
    for col in tables.posts.c:
        if col.name == "position":
            columns.append(position.label("position"))
        elif col.name in ("comment_count", "like_count"):
            columns.append(c.c[col.name])
        else:
            columns.append(h.c[col.name])
    return columns
