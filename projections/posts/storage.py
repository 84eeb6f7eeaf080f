"""The posts projection's rows in the database: loading what a batch touches, writing it back.

Each table gets a few statements per batch however many events hit its rows:
``posts``, ``post_tags``, ``comments``, ``likes``, and the history
(``post_history``, ``post_counts``) that makes ``posts(asOf:)`` a range lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from operator import itemgetter

import orjson
from sqlalchemy import Dialect, Table, and_, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection

from events.model import RecordedEvent
from projections.posts.batch import COUNTS, COUNTS_COLUMNS, PostsBatch
from projections.rows import (
    Positional,
    delete_rows,
    execute_many,
    insert_rows,
    insert_tuples,
    load_rows,
    positional,
    update_rows,
)
from projections.tables import FOREVER
from projections.writes import Writes, writes

_LIKES = frozenset(("PostLiked", "PostUnliked"))
_COMMENT_CHANGES = frozenset(("CommentEdited", "CommentDeleted"))


async def load(
    conn: AsyncConnection, t: dict[str, Table], events: Sequence[RecordedEvent]
) -> PostsBatch:
    """The rows the batch touches, as they are before it.

    A stream's first event (version 1) in the batch means the row it starts
    cannot exist yet: a post's row is made only by the ``PostCreated`` that
    opens its stream, and a like is one stream per (post, member) (see
    ``domain.like``). Those rows are not looked for: in a rebuild that is
    most posts and almost every like.
    """
    # One pass over the events (three cost a tenth of a rebuild's loading).
    post_ids: set[str] = set()
    new_posts: set[str] = set()
    comment_ids: set[str] = set()
    liked: set[tuple[str, str]] = set()
    new_likes: set[tuple[str, str]] = set()
    for e in events:
        d = e.data
        type_ = e.type
        post_ids.add(d["post_id"])
        if type_ in _LIKES:
            pair = (d["post_id"], d["user_id"])
            liked.add(pair)
            if e.version == 1 and type_ == "PostLiked":
                new_likes.add(pair)
        elif type_ in _COMMENT_CHANGES:
            comment_ids.add(d["comment_id"])
        elif e.version == 1 and type_ == "PostCreated":
            new_posts.add(d["post_id"])
    b = PostsBatch.empty(counts_apart="post_counts" in t)
    b.loaded = dict.fromkeys(post_ids)
    for row in await load_rows(conn, t["posts"], "id", post_ids - new_posts):
        b.loaded[row["id"]] = row
    b.posts = {k: (dict(v) if v is not None else None) for k, v in b.loaded.items()}
    for row in await load_rows(conn, t["comments"], "id", comment_ids):
        b.comments[row["id"]] = row
    b.comments_loaded = set(b.comments)
    liked -= new_likes
    if liked:
        users = {u for _, u in liked}
        rows = await load_rows(conn, t["likes"], "post_id", {p for p, _ in liked})
        b.likes_loaded = {(r["post_id"], r["user_id"]) for r in rows if r["user_id"] in users}
        b.likes = set(b.likes_loaded)
    return b


async def _write_history(out: Writes, t: dict[str, Table], b: PostsBatch) -> None:
    history, counts = t["post_history"], t.get("post_counts")
    if counts is None:  # older shape, keyed (id, valid_from)
        if b.close_existing:
            # By primary key: "valid_to = FOREVER" would tempt the planner into the asOf index.
            await execute_many(out, _close_for(history, "valid_from", out.dialect), [
                {"pid": k, "at": vf, "vt": vt} for k, (vf, vt) in sorted(b.close_existing.items())
            ])
        await insert_rows(out, history, sorted(b.history, key=itemgetter("id", "valid_from")))
        return
    # Keyed (id, valid_to): the open rows are closed by primary key before their
    # successors, which take the key (id, FOREVER), go in.
    if b.close_existing:
        await execute_many(out, _close_for(history, "valid_to", out.dialect), [
            {"pid": k, "at": FOREVER, "vt": vt} for k, (_, vt) in sorted(b.close_existing.items())
        ])
    # Rows go in primary-key order (here and below): consecutive rows land on the same
    # or the next B-tree page instead of one at random per row.
    await insert_rows(out, history, sorted(b.history, key=itemgetter("id", "valid_to")))
    b.counts.sort()  # in key order, (created_position, valid_from)
    await insert_tuples(out, counts, COUNTS_COLUMNS, b.counts)


@lru_cache(maxsize=64)
def _close_for(table: Table, key: str, dialect: Dialect) -> Positional:
    """Set ``valid_to`` of the history row keyed (``pid``, ``at``) in ``key``: the
    primary key's second column, ``valid_to`` now and ``valid_from`` in the older shape."""
    return positional(
        table.update()
        .where(and_(table.c.id == bindparam("pid"), table.c[key] == bindparam("at")))
        .values(valid_to=bindparam("vt")),
        dialect,
    )


@lru_cache(maxsize=64)
def _unlike_for(table: Table, dialect: Dialect) -> Positional:
    return positional(
        table.delete().where(
            and_(table.c.post_id == bindparam("p"), table.c.user_id == bindparam("u"))
        ),
        dialect,
    )


async def write(conn: AsyncConnection, t: dict[str, Table], b: PostsBatch) -> None:
    async with writes(conn) as out:
        await _write(out, t, b)


async def _write(out: Writes, t: dict[str, Table], b: PostsBatch) -> None:
    await _write_history(out, t, b)

    # A few statements per table however many events hit the rows.
    existed = sorted(k for k in b.dirty if b.loaded.get(k) is not None)
    await delete_rows(out, t["posts"], "id", [k for k in existed if b.posts[k] is None])
    # Most changed posts only had comments or likes: their text is not sent again.
    edited = b.edited
    await update_rows(out, t["posts"], "id", [
        r for k in existed if k in edited and (r := b.posts[k]) is not None
    ])
    await update_rows(out, t["posts"], "id", [
        r for k in existed if k not in edited and (r := b.posts[k]) is not None
    ], COUNTS)
    await insert_rows(out, t["posts"], [
        r for k in sorted(b.dirty.difference(existed)) if (r := b.posts[k]) is not None
    ])

    await delete_rows(out, t["post_tags"], "post_id", b.retagged)
    await insert_rows(out, t["post_tags"], [
        {"post_id": k, "tag": tag}
        for k in sorted(b.retagged) if (r := b.posts.get(k)) is not None
        for tag in orjson.loads(r["tags"])
    ])

    await delete_rows(out, t["comments"], "id", b.dirty_comments & b.comments_loaded)
    await insert_rows(out, t["comments"], [
        r for k in sorted(b.dirty_comments) if (r := b.comments[k]) is not None
    ])

    likes = t["likes"]
    await execute_many(out, _unlike_for(likes, out.dialect), [
        {"p": p, "u": u} for p, u in sorted(b.likes_loaded - b.likes)
    ])
    await insert_rows(
        out, likes, [{"post_id": p, "user_id": u} for p, u in sorted(b.likes - b.likes_loaded)]
    )
