"""The Like aggregate: one stream per (post, member).

A like lives in its own tiny stream rather than on the post, so a hundred
members liking one post at once append to a hundred different streams and
never conflict; the post's like count is the read model's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import post
from domain.aggregate import Aggregate, plain_restore, plain_snapshot
from domain.ports import Actor
from events.catalog import DomainEvent, PostLiked, PostUnliked

STREAM_TYPE = "Like"


@dataclass(frozen=True)
class LikeState:
    liked: bool = False


def evolve(state: LikeState, event: DomainEvent) -> LikeState:
    match event:
        case PostLiked():
            return LikeState(liked=True)
        case PostUnliked():
            return LikeState(liked=False)
    return state


AGGREGATE = Aggregate(
    stream_type=STREAM_TYPE,
    initial=LikeState(),
    evolve=evolve,
    to_snapshot=plain_snapshot,
    from_snapshot=plain_restore(LikeState),
    snapshot_version=1,
)


def like(state: LikeState, on: post.PostState, actor: Actor) -> list[DomainEvent]:
    post.require_published(on, actor)
    return [] if state.liked else [PostLiked(on.post_id, actor.user_id)]


def unlike(state: LikeState, on: post.PostState, actor: Actor) -> list[DomainEvent]:
    post.require_published(on, actor)
    return [PostUnliked(on.post_id, actor.user_id)] if state.liked else []
