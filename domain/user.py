"""The User aggregate: registration, profile, password, role, and being forgotten.

Personal fields (email, display name, bio) arrive decrypted from the log, or as
None once the user's key was destroyed: folding must never insist on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import validation
from domain.aggregate import Aggregate, evolved, plain_restore, plain_snapshot
from domain.commands import RegisterUser, UpdateProfile
from domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from events.catalog import (
    DomainEvent,
    PasswordChanged,
    ProfileUpdated,
    RoleGranted,
    UserForgotten,
    UserRegistered,
)

STREAM_TYPE = "User"
ADMIN = "ADMIN"
MEMBER = "MEMBER"


@dataclass(frozen=True)
class UserState:
    user_id: str = ""
    username: str = ""
    email: str | None = None
    email_digest: str | None = None
    """Kept so the email claim can be released even when the address itself is unknown."""
    display_name: str | None = None
    bio: str | None = None
    password_hash: str = ""
    role: str = MEMBER
    forgotten: bool = False
    credentials: int = 0
    """How many times the password changed: tokens carry the count they were issued
    under, and one issued before the latest change no longer names the user."""

    @property
    def exists(self) -> bool:
        return bool(self.user_id)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def evolve(state: UserState, event: DomainEvent) -> UserState:
    match event:
        case UserRegistered():
            return UserState(
                user_id=event.user_id,
                username=event.username,
                email=event.email,
                email_digest=validation.email_digest(event.email) if event.email else None,
                display_name=event.display_name,
                bio="" if event.display_name is not None else None,
                password_hash=event.password_hash,
                role=event.role,
            )
        case ProfileUpdated():
            return evolved(
                state,
                display_name=state.display_name if event.display_name is None
                else event.display_name,
                bio=state.bio if event.bio is None else event.bio,
            )
        case PasswordChanged():
            return evolved(
                state, password_hash=event.password_hash, credentials=state.credentials + 1
            )
        case RoleGranted():
            return evolved(state, role=event.role)
        case UserForgotten():
            return evolved(state, email=None, display_name=None, bio=None, forgotten=True)
    return state


PERSONAL = ("email", "display_name", "bio")


def to_snapshot(state: UserState) -> dict[str, Any]:
    # Snapshots are stored in plain text: personal data must stay only in the
    # encrypted events, or forgetting a user would leave a readable copy behind.
    data = plain_snapshot(state)
    for name in PERSONAL:
        data.pop(name)
    return data


AGGREGATE = Aggregate(
    stream_type=STREAM_TYPE,
    initial=UserState(),
    evolve=evolve,
    to_snapshot=to_snapshot,
    from_snapshot=plain_restore(UserState),
    snapshot_version=2,  # 2: credentials (a version-1 snapshot lacks the count)
)


# --- decisions -------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """A validated registration, before the password is hashed (hashing is the costly part)."""

    username: str
    email: str
    display_name: str

    @property
    def email_digest(self) -> str:
        return validation.email_digest(self.email)


def registration(cmd: RegisterUser) -> Registration:
    username = validation.username(cmd.username)
    email = validation.email(cmd.email)
    validation.password("password", cmd.password)
    display_name = (
        username if cmd.display_name is None
        else validation.text("displayName", cmd.display_name, min_len=1, max_len=100)
    )
    return Registration(username, email, display_name)


def register(reg: Registration, *, user_id: str, password_hash: str) -> list[DomainEvent]:
    return [UserRegistered(user_id, reg.username, reg.email, reg.display_name, password_hash)]


def require_active(state: UserState) -> UserState:
    """Only a registered, not forgotten user may act."""
    if not state.exists or state.forgotten:
        raise Unauthenticated("authentication required")
    return state


def update_profile(cmd: UpdateProfile, state: UserState) -> list[DomainEvent]:
    display_name = (
        None if cmd.display_name is None
        else validation.text("displayName", cmd.display_name, min_len=1, max_len=100)
    )
    bio = None if cmd.bio is None else validation.text(
        "bio", cmd.bio, min_len=0, max_len=2000, multiline=True
    )
    changed_name = display_name if display_name != state.display_name else None
    changed_bio = bio if bio != state.bio else None
    if changed_name is None and changed_bio is None:
        return []
    return [ProfileUpdated(state.user_id, display_name=changed_name, bio=changed_bio)]


def change_password(
    state: UserState, *, current_ok: bool, new_hash: str
) -> list[DomainEvent]:
    if not current_ok:
        raise InvalidInput("currentPassword", "current password is wrong")
    return [PasswordChanged(state.user_id, new_hash)]


def forget(state: UserState, *, password_ok: bool = True) -> list[DomainEvent]:
    if not password_ok:
        raise InvalidInput("password", "password is wrong")
    return [UserForgotten(state.user_id)]


def require_forgettable(target: UserState, *, by_admin: bool) -> UserState:
    if not by_admin:
        raise Forbidden("only admins may forget other users")
    if not target.exists or target.forgotten:
        raise NotFound("no such user")
    return target


def grant_admin(state: UserState) -> list[DomainEvent]:
    if not state.exists or state.forgotten:
        raise NotFound("no such user")
    return [] if state.is_admin else [RoleGranted(state.user_id, ADMIN)]
