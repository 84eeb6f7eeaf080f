"""The posts projection's rules: one small function per event type, folded over a batch.

Post events change the post row (and so its history); comments and likes
change their own rows and the post's counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson

from events.model import RecordedEvent
from projections import projection
from projections.posts.batch import PUBLISHED, PostsBatch
from projections.projection import Change
from projections.rows import Row


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
