"""Projection ``posts``: posts with their counts and tags, the posts' history, comments, likes.

One batch of events is folded over the rows it touches (:class:`PostsBatch`)
by one small function per event type, then written back in a few statements.
``post_history`` gets one row per state a post row had, so ``posts(asOf: P)``
is a range lookup (``valid_from <= P < valid_to``), never a replay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

import orjson
from sqlalchemy import Dialect, MetaData, Table, and_, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection

from events.model import RecordedEvent
from projections import projection
from projections.projection import Change, Projection
from projections.rows import (
    Positional,
    Row,
    Writes,
    delete_rows,
    execute_many,
    insert_rows,
    insert_tuples,
    load_rows,
    positional,
    update_rows,
    writes,
)
from projections.tables import COUNTS_APART, FOREVER, posts_tables

PUBLISHED = "PUBLISHED"
COUNTS = ("comment_count", "like_count", "position")
"""What a comment or a like changes in a post row."""
CountsRow = tuple[int, int, int, int]
"""A ``post_counts`` row: created_position, valid_from, comment_count, like_count (its
columns in order). Most events make one: a tuple is cheaper to make, sort and send
than a dict."""
COUNTS_COLUMNS = ("created_position", "valid_from", "comment_count", "like_count")


@dataclass
class PostsBatch:
    """The rows one batch touches, as loaded and as folded so far."""

    loaded: dict[str, Row | None]
    """Post rows before the batch (None: absent or deleted)."""
    posts: dict[str, Row | None]
    comments: dict[str, Row | None]
    comments_loaded: set[str]
    likes: set[tuple[str, str]]
    likes_loaded: set[tuple[str, str]]
    counts_apart: bool = True
    """Counts have their own history (``post_counts``); False for an older generation,
    whose ``post_history`` takes a whole row per count change."""
    dirty: set[str] = field(default_factory=set)
    edited: set[str] = field(default_factory=set)
    """Posts whose row changed beyond ``COUNTS`` (created, edited, status, deleted)."""
    retagged: set[str] = field(default_factory=set)
    dirty_comments: set[str] = field(default_factory=set)
    history: list[Row] = field(default_factory=list)
    counts: list[CountsRow] = field(default_factory=list)
    """New ``post_counts`` rows."""
    newest_state: dict[str, Row] = field(default_factory=dict)
    """Per post, the newest history row written by this batch (its valid_to is still open)."""
    close_existing: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per post, (valid_from, valid_to) of the history row that was current before the batch
    (valid_from is only known, and only needed, in the older shape)."""
    comment_changes: list[Change] = field(default_factory=list)

    @classmethod
    def empty(cls, *, counts_apart: bool = True) -> PostsBatch:
        return cls({}, {}, {}, set(), set(), set(), counts_apart)

    def post(self, post_id: str) -> Row | None:
        return self.posts.get(post_id)

    def changed(self, post_id: str, row: Row | None, event: RecordedEvent) -> None:
        """The post row is now ``row`` (None: deleted) as of ``event``: record its history."""
        self.posts[post_id] = row
        self.dirty.add(post_id)
        self.edited.add(post_id)
        position = event.position
        previous = self.newest_state.pop(post_id, None)
        if previous is not None:
            previous["valid_to"] = position
        elif (loaded := self.loaded.get(post_id)) is not None:
            # Older shape: the post row's position is the valid_from of its open history row.
            self.close_existing[post_id] = (loaded["position"], position)
        if row is not None:
            row["position"] = position
            state = {**row, "valid_from": position, "valid_to": FOREVER}
            self.history.append(state)
            self.newest_state[post_id] = state

    def counted(self, post_id: str, row: Row, event: RecordedEvent) -> None:
        """Only the counts of the post row changed, as of ``event``."""
        if not self.counts_apart:
            self.changed(post_id, row, event)
            return
        self.dirty.add(post_id)
        row["position"] = event.position
        # Only appended: a counts row lasts until the post's next one (or its end).
        self.counts.append((
            row["created_position"], event.position, row["comment_count"], row["like_count"]
        ))

    def feed_changes(self) -> list[Change]:
        changes: list[Change] = []
        for post_id in sorted(self.dirty):
            before, after = self.loaded.get(post_id), self.posts.get(post_id)
            if before is None and after is None:
                continue  # created and deleted within the batch: never seen
            was = before is not None and before["status"] == PUBLISHED
            now = after is not None and after["status"] == PUBLISHED
            kind = "ADDED" if now and not was else "REMOVED" if was and not now else "UPDATED"
            status = after["status"] if after is not None else "DELETED"
            changes.append({"kind": "post", "id": post_id, "change": kind, "status": status})
        return changes + self.comment_changes


# --- one function per event type -------------------------------------------


def _tags(tags: Sequence[str]) -> str:
    return orjson.dumps(list(dict.fromkeys(tags))).decode()


def post_created(b: PostsBatch, e: RecordedEvent) -> None:
    d = e.data
    row: Row = {
        "id": d["post_id"], "author_id": d["author_id"], "title": d["title"],
        "body": d["body"], "tags": _tags(d.get("tags") or ()), "status": "DRAFT",
        "version": e.version, "created_at": e.recorded_at, "updated_at": e.recorded_at,
        "published_at": None, "comment_count": 0, "like_count": 0,
        "created_position": e.position,
    }
    b.retagged.add(row["id"])
    b.changed(row["id"], row, e)
    if b.counts_apart:
        b.counted(row["id"], row, e)  # counts begin with the post, at zero


def _post_event(b: PostsBatch, e: RecordedEvent, **values: object) -> None:
    """A post-stream event changing ``values``; ignored for a post the model does not hold."""
    post_id = e.data["post_id"]
    row = b.post(post_id)
    if row is None:
        return
    # The batch owns its rows (history keeps copies): change them in place.
    row.update(values, version=e.version, updated_at=e.recorded_at)
    b.changed(post_id, row, e)


def post_edited(b: PostsBatch, e: RecordedEvent) -> None:
    d = e.data
    values = {k: d[k] for k in ("title", "body") if d.get(k) is not None}
    if d.get("tags") is not None:
        values["tags"] = _tags(d["tags"])
        b.retagged.add(d["post_id"])
    _post_event(b, e, **values)


def post_published(b: PostsBatch, e: RecordedEvent) -> None:
    row = b.post(e.data["post_id"])
    first = row is not None and row["published_at"] is None
    if first:
        _post_event(b, e, status=PUBLISHED, published_at=e.recorded_at)
    else:
        _post_event(b, e, status=PUBLISHED)


def post_archived(b: PostsBatch, e: RecordedEvent) -> None:
    _post_event(b, e, status="ARCHIVED")


def post_restored(b: PostsBatch, e: RecordedEvent) -> None:
    d = e.data
    b.retagged.add(d["post_id"])
    _post_event(b, e, title=d["title"], body=d["body"], tags=_tags(d["tags"]))


def post_deleted(b: PostsBatch, e: RecordedEvent) -> None:
    post_id = e.data["post_id"]
    if b.post(post_id) is not None:
        b.retagged.add(post_id)
        b.changed(post_id, None, e)


def _count(b: PostsBatch, e: RecordedEvent, column: str, delta: int) -> None:
    """Counts are part of the post's state (and history) but not of its version."""
    post_id = e.data["post_id"]
    row = b.posts.get(post_id)
    if row is not None:
        row[column] += delta
        b.counted(post_id, row, e)


def comment_added(b: PostsBatch, e: RecordedEvent) -> None:
    d = e.data
    b.comments[d["comment_id"]] = {
        "id": d["comment_id"], "post_id": d["post_id"], "author_id": d["author_id"],
        "body": d["body"], "created_at": e.recorded_at, "edited_at": None,
        "created_position": e.position, "position": e.position,
    }
    b.dirty_comments.add(d["comment_id"])
    _count(b, e, "comment_count", +1)
    b.comment_changes.append(_comment_change(d, "ADDED"))


def comment_edited(b: PostsBatch, e: RecordedEvent) -> None:
    d = e.data
    row = b.comments.get(d["comment_id"])
    if row is None:
        return
    b.comments[d["comment_id"]] = {
        **row, "body": d["body"], "edited_at": e.recorded_at, "position": e.position
    }
    b.dirty_comments.add(d["comment_id"])
    b.comment_changes.append(_comment_change(d, "UPDATED"))


def comment_deleted(b: PostsBatch, e: RecordedEvent) -> None:
    d = e.data
    if b.comments.get(d["comment_id"]) is None:
        return
    b.comments[d["comment_id"]] = None
    b.dirty_comments.add(d["comment_id"])
    _count(b, e, "comment_count", -1)
    b.comment_changes.append(_comment_change(d, "REMOVED"))


def _comment_change(d: dict[str, str], change: str) -> Change:
    return {"kind": "comment", "id": d["comment_id"], "post_id": d["post_id"], "change": change}


def post_liked(b: PostsBatch, e: RecordedEvent) -> None:
    pair = (e.data["post_id"], e.data["user_id"])
    if pair not in b.likes:
        b.likes.add(pair)
        _count(b, e, "like_count", +1)


def post_unliked(b: PostsBatch, e: RecordedEvent) -> None:
    pair = (e.data["post_id"], e.data["user_id"])
    if pair in b.likes:
        b.likes.discard(pair)
        _count(b, e, "like_count", -1)


HANDLERS: dict[str, Callable[[PostsBatch, RecordedEvent], None]] = {
    "PostCreated": post_created,
    "PostEdited": post_edited,
    "PostPublished": post_published,
    "PostArchived": post_archived,
    "PostRestored": post_restored,
    "PostDeleted": post_deleted,
    "CommentAdded": comment_added,
    "CommentEdited": comment_edited,
    "CommentDeleted": comment_deleted,
    "PostLiked": post_liked,
    "PostUnliked": post_unliked,
}


def fold(b: PostsBatch, events: Sequence[RecordedEvent]) -> None:
    projection.fold(b, HANDLERS, events)


# --- loading and writing a batch -------------------------------------------


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


class PostsProjection(Projection):
    name = "posts"
    # 2: tables clustered by primary key on SQLite; 3: counts with their own history
    schema_version = COUNTS_APART
    types = tuple(HANDLERS)
    # Comments and likes change the post's row (its counts) from their own streams.
    sequence_fields = {"post_id": "post"}

    def tables(
        self, metadata: MetaData, suffix: str, schema_version: int | None = None
    ) -> dict[str, Table]:
        return posts_tables(metadata, suffix, schema_version or self.schema_version)

    async def apply(
        self, conn: AsyncConnection, tables: dict[str, Table], events: Sequence[RecordedEvent]
    ) -> list[Change]:
        batch = await load(conn, tables, events)
        fold(batch, events)
        await write(conn, tables, batch)
        return batch.feed_changes()
