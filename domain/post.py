"""The Post aggregate: DRAFT -> PUBLISHED <-> ARCHIVED, deleted is final.

Who may see a post decides what a refusal looks like: someone who may not see
it (a draft or archived post of another member) gets NotFound, so refusals
never leak its existence; someone who may see it but not change it gets Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain import validation
from domain.aggregate import Aggregate, evolved, plain_restore, plain_snapshot
from domain.commands import CreatePost, EditPost
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.ports import Actor
from events.catalog import (
    DomainEvent,
    PostArchived,
    PostCreated,
    PostDeleted,
    PostEdited,
    PostPublished,
    PostRestored,
)

STREAM_TYPE = "Post"
DRAFT, PUBLISHED, ARCHIVED = "DRAFT", "PUBLISHED", "ARCHIVED"


@dataclass(frozen=True)
class PostState:
    post_id: str = ""
    author_id: str = ""
    title: str = ""
    body: str = ""
    tags: tuple[str, ...] = ()
    status: str = DRAFT
    deleted: bool = False

    @property
    def exists(self) -> bool:
        return bool(self.post_id)


def evolve(state: PostState, event: DomainEvent) -> PostState:
    match event:
        case PostCreated():
            return PostState(event.post_id, event.author_id, event.title, event.body,
                             tuple(event.tags))
        case PostEdited():
            return evolved(
                state,
                title=state.title if event.title is None else event.title,
                body=state.body if event.body is None else event.body,
                tags=state.tags if event.tags is None else tuple(event.tags),
            )
        case PostPublished():
            return evolved(state, status=PUBLISHED)
        case PostArchived():
            return evolved(state, status=ARCHIVED)
        case PostDeleted():
            return evolved(state, deleted=True)
        case PostRestored():
            return evolved(state, title=event.title, body=event.body, tags=tuple(event.tags))
    return state


AGGREGATE = Aggregate(
    stream_type=STREAM_TYPE,
    initial=PostState(),
    evolve=evolve,
    to_snapshot=plain_snapshot,
    from_snapshot=plain_restore(PostState),
    snapshot_version=1,
)


# --- who may do what -------------------------------------------------------


def _may_see(state: PostState, actor: Actor) -> bool:
    return state.status == PUBLISHED or actor.user_id == state.author_id or actor.is_admin


def require_visible(state: PostState, actor: Actor) -> PostState:
    if not state.exists or state.deleted or not _may_see(state, actor):
        raise NotFound("no such post")
    return state


def require_author(state: PostState, actor: Actor) -> PostState:
    require_visible(state, actor)
    if actor.user_id != state.author_id:
        raise Forbidden("only the author may do this")
    return state


def require_author_or_admin(state: PostState, actor: Actor) -> PostState:
    require_visible(state, actor)
    if actor.user_id != state.author_id and not actor.is_admin:
        raise Forbidden("only the author or an admin may do this")
    return state


def require_published(state: PostState, actor: Actor) -> PostState:
    """Comments and likes go on published posts only."""
    require_visible(state, actor)
    if state.status != PUBLISHED:
        raise Forbidden(f"the post is {state.status.lower()}")
    return state


# --- decisions -------------------------------------------------------------


def _title(value: str) -> str:
    return validation.text("title", value, min_len=1, max_len=200)


def _body(value: str) -> str:
    return validation.text("body", value, min_len=0, max_len=100_000, strip=False,
                           multiline=True)


def create(cmd: CreatePost, *, post_id: str, author_id: str) -> list[DomainEvent]:
    created = PostCreated(post_id, author_id, _title(cmd.title), _body(cmd.body),
                          validation.tags(cmd.tags))
    return [created, PostPublished(post_id)] if cmd.publish else [created]


def edit(cmd: EditPost, state: PostState, actor: Actor) -> list[DomainEvent]:
    require_author(state, actor)
    title = None if cmd.title is None else _title(cmd.title)
    body = None if cmd.body is None else _body(cmd.body)
    tags = None if cmd.tags is None else validation.tags(cmd.tags)
    edited = PostEdited(
        state.post_id,
        title=title if title != state.title else None,
        body=body if body != state.body else None,
        tags=tags if tags != state.tags else None,
    )
    if edited.title is None and edited.body is None and edited.tags is None:
        return []
    return [edited]


def publish(state: PostState, actor: Actor) -> list[DomainEvent]:
    require_author(state, actor)
    return [] if state.status == PUBLISHED else [PostPublished(state.post_id)]


def archive(state: PostState, actor: Actor) -> list[DomainEvent]:
    require_author_or_admin(state, actor)
    if state.status == DRAFT:
        raise InvalidInput("id", "a draft cannot be archived: publish it first")
    return [] if state.status == ARCHIVED else [PostArchived(state.post_id)]


def delete(state: PostState, actor: Actor) -> list[DomainEvent]:
    require_author_or_admin(state, actor)
    return [PostDeleted(state.post_id)]


def check_restorable(state: PostState, actor: Actor, *, version: int, current: int) -> None:
    require_author(state, actor)
    if not 1 <= version <= current:
        raise InvalidInput("version", f"version must be between 1 and {current}")


def restore(state: PostState, actor: Actor, *, version: int, past: PostState) -> list[DomainEvent]:
    """Bring back the content ``past`` had at ``version``; the restore is itself an event."""
    require_author(state, actor)
    return [PostRestored(state.post_id, version, past.title, past.body, past.tags)]
