"""Given / when / then for the write model: a fake log, a hand-moved clock, named members."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from domain import validation
from domain.commands import Command
from domain.handlers import handle
from domain.ports import Actor, Context, Outcome
from events.catalog import (
    DomainEvent,
    PostArchived,
    PostCreated,
    PostDeleted,
    PostPublished,
    RoleGranted,
    UserRegistered,
)
from events.model import Claim
from tests.unit.domain.fake_log import FakeLog, TickingClock


class FakeHasher:
    """Instant and transparent: the real argon2id is tested once, in test_security."""

    def hash(self, password: str) -> str:
        return f"fake${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"fake${password}"


@dataclass
class World:
    clock: TickingClock = field(default_factory=TickingClock)
    log: FakeLog = field(init=False)
    appended: list[DomainEvent] = field(default_factory=list)
    """What the last command appended."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Context overrides (snapshot_every, max_retries, login limits…)."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.log = FakeLog(clock=self.clock)

    # --- given ------------------------------------------------------------------

    def member(self, username: str, *, admin: bool = False, password: str = "correct horse") -> str:
        user_id = f"user-{username}"
        email = f"{username.lower()}@example.org"
        events: list[DomainEvent] = [
            UserRegistered(user_id, username, email, username, f"fake${password}")
        ]
        if admin:
            events.append(RoleGranted(user_id, "ADMIN"))
        self.log.given(user_id, *events, actor_id=user_id)
        self.log.given_claim(Claim("username", username.lower(), user_id))
        self.log.given_claim(Claim("email", validation.email_digest(email), user_id))
        return user_id

    def post(
        self, author: str, *, status: str = "PUBLISHED", deleted: bool = False,
        title: str = "Hello", body: str = "First words", tags: tuple[str, ...] = ("intro",),
    ) -> str:
        post_id = f"post-{next(self._ids)}"
        events: list[DomainEvent] = [PostCreated(post_id, author, title, body, tags)]
        if status in ("PUBLISHED", "ARCHIVED"):
            events.append(PostPublished(post_id))
        if status == "ARCHIVED":
            events.append(PostArchived(post_id))
        if deleted:
            events.append(PostDeleted(post_id))
        self.log.given(post_id, *events, actor_id=author)
        return post_id

    # --- when -------------------------------------------------------------------

    def context(self, actor: str | None = None, **overrides: Any) -> Context:
        ctx = Context(
            log=self.log,
            hasher=FakeHasher(),
            actor=Actor(actor) if actor else None,
            clock=self.clock,
            new_id=lambda: f"id-{next(self._ids)}",
            correlation_id="corr-1",
        )
        return replace(ctx, **{**self.settings, **overrides})

    async def run(self, command: Command, *, by: str | None = None, **overrides: Any) -> Outcome:
        """Handle ``command`` as member ``by``; what it appended lands in ``self.appended``."""
        before = self.log.head
        self.appended = []
        try:
            return await handle(command, self.context(by, **overrides))
        finally:
            self.appended = self.log.recorded_after(before)
