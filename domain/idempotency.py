"""Idempotency keys: when a command is a retry of an earlier one (docs/architecture.md).

A client names a request with a key so that it can send it again after a
timeout without doing it twice. A key means one request of one caller:

- it is scoped to the caller and the operation, so two members' "retry-1", or
  one member's "retry-1" for a post and for a comment, are different requests;
- it is stored with a fingerprint of the command's input: sent again with the
  same input it returns the first result and appends nothing; sent with other
  input it is refused (BAD_USER_INPUT on ``idempotencyKey``), never answered
  with the result of a request the client did not make;
- it is 1-255 printable characters, not only spaces;
- it is remembered for the store's TTL (24 h by default, README "Settings").

The check before deciding is only a shortcut: the store checks the key again
in the commit, under its write lock, so concurrent retries append once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from domain.commands import AddComment, CreatePost
from domain.errors import InvalidInput
from domain.ports import Actor, Outcome
from events.model import IdempotentReplay

Keyed = CreatePost | AddComment
"""The commands that carry an idempotency key."""
FIELD = "idempotencyKey"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Request:
    """One keyed request as the store keeps it: its scoped key and its input's fingerprint."""

    key: str
    fingerprint: str


def request(actor: Actor, command: Keyed) -> Request | None:
    """The keyed request ``command`` is, or None when it carries no key."""
    key: str | None = command.idempotency_key
    if key is None:
        return None
    if not key.strip():
        raise InvalidInput(FIELD, "idempotencyKey must not be blank")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(FIELD, f"idempotencyKey must be at most {MAX_KEY_LENGTH} characters")
    if not key.isprintable():
        raise InvalidInput(FIELD, "idempotencyKey must be printable characters")
    operation = type(command).__name__
    # The operation leads: keys of this form never equal the older "member:key" ones.
    return Request(f"{operation}:{actor.user_id}:{key}", fingerprint(command))


def fingerprint(command: Keyed) -> str:
    """A stable hash of the command's input: its type and every field but the key.

    Canonical JSON (sorted keys, no spaces, ASCII escapes), so the same input
    hashes the same in every process and release; the input as sent, before
    any normalisation, as a retry sends it again.
    """
    fields = {
        f.name: getattr(command, f.name)
        for f in dataclasses.fields(command)
        if f.name != "idempotency_key"
    }
    canonical = json.dumps(
        [type(command).__name__, fields], sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def replayed(first: IdempotentReplay, once: Request) -> Outcome:
    """The first result again, if this is the same request; else the key is misused."""
    if first.fingerprint != once.fingerprint:
        raise reused()
    return Outcome({k: str(v) for k, v in first.result.items()}, first.position)


def reused() -> InvalidInput:
    return InvalidInput(
        FIELD, "this idempotencyKey was already used with other input; use a new key"
    )
