"""The Comment aggregate: one stream per comment, so busy posts never contend on comments."""

from __future__ import annotations

from dataclasses import dataclass

from domain import post, validation
from domain.aggregate import Aggregate, evolved, plain_restore, plain_snapshot
from domain.errors import Forbidden, NotFound
from domain.ports import Actor
from events.catalog import CommentAdded, CommentDeleted, CommentEdited, DomainEvent

STREAM_TYPE = "Comment"


@dataclass(frozen=True)
class CommentState:
    comment_id: str = ""
    post_id: str = ""
    author_id: str = ""
    body: str = ""
    deleted: bool = False

    @property
    def exists(self) -> bool:
        return bool(self.comment_id)


def evolve(state: CommentState, event: DomainEvent) -> CommentState:
    match event:
        case CommentAdded():
            return CommentState(event.comment_id, event.post_id, event.author_id, event.body)
        case CommentEdited():
            return evolved(state, body=event.body)
        case CommentDeleted():
            return evolved(state, deleted=True)
    return state


AGGREGATE = Aggregate(
    stream_type=STREAM_TYPE,
    initial=CommentState(),
    evolve=evolve,
    to_snapshot=plain_snapshot,
    from_snapshot=plain_restore(CommentState),
    snapshot_version=1,
)


def _body(value: str) -> str:
    return validation.text("body", value, min_len=1, max_len=10_000, multiline=True)


def require_existing(state: CommentState, on: post.PostState, actor: Actor) -> CommentState:
    """A deleted comment, or one on a post the actor cannot see, does not exist for them."""
    if not state.exists or state.deleted:
        raise NotFound("no such comment")
    try:
        post.require_visible(on, actor)
    except NotFound:
        raise NotFound("no such comment") from None
    return state


def add(
    body: str, on: post.PostState, actor: Actor, *, comment_id: str
) -> list[DomainEvent]:
    post.require_published(on, actor)
    return [CommentAdded(comment_id, on.post_id, actor.user_id, _body(body))]


def edit(body: str, state: CommentState, on: post.PostState, actor: Actor) -> list[DomainEvent]:
    require_existing(state, on, actor)
    if actor.user_id != state.author_id:
        raise Forbidden("only the comment's author may edit it")
    new_body = _body(body)
    return [] if new_body == state.body else [
        CommentEdited(state.comment_id, state.post_id, new_body)
    ]


def delete(state: CommentState, on: post.PostState, actor: Actor) -> list[DomainEvent]:
    require_existing(state, on, actor)
    if actor.user_id not in (state.author_id, on.author_id) and not actor.is_admin:
        raise Forbidden("only the comment's author, the post's author or an admin may delete it")
    return [CommentDeleted(state.comment_id, state.post_id)]
