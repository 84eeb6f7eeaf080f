"""The posts projection's batch: the rows one batch touches, and how a post row's changes
become its history.

Every change of a post row is recorded as a ``post_history`` row valid from the
event's position until the next change (:meth:`PostsBatch.changed`); a change of
its counts alone is a ``post_counts`` row (:meth:`PostsBatch.counted`). What the
feed sees change is derived from the rows before and after the batch
(:meth:`PostsBatch.feed_changes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from events.model import RecordedEvent
from projections.projection import Change
from projections.rows import Row
from projections.tables import FOREVER

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
