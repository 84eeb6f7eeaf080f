"""Commands: what a caller asks for, in imperative names. Plain frozen dataclasses.

Who asks is not part of the command: handlers receive it in ``Context.actor``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegisterUser:
    username: str
    email: str
    password: str
    display_name: str | None = None


@dataclass(frozen=True)
class LogIn:
    username: str
    password: str


@dataclass(frozen=True)
class UpdateProfile:
    display_name: str | None = None
    bio: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangePassword:
    current_password: str
    new_password: str


@dataclass(frozen=True)
class PromoteUser:
    """Grant the admin role: issued from the command line, recorded with no actor."""

    username: str


@dataclass(frozen=True)
class ForgetMe:
    password: str


@dataclass(frozen=True)
class ForgetUser:
    """Admin only."""

    user_id: str


@dataclass(frozen=True)
class CreatePost:
    title: str
    body: str
    tags: tuple[str, ...] = ()
    publish: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True)
class EditPost:
    post_id: str
    title: str | None = None
    body: str | None = None
    tags: tuple[str, ...] | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class PublishPost:
    post_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ArchivePost:
    post_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class DeletePost:
    post_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RestorePost:
    post_id: str
    version: int
    expected_version: int | None = None


@dataclass(frozen=True)
class AddComment:
    post_id: str
    body: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class EditComment:
    comment_id: str
    body: str


@dataclass(frozen=True)
class DeleteComment:
    comment_id: str


@dataclass(frozen=True)
class LikePost:
    post_id: str


@dataclass(frozen=True)
class UnlikePost:
    post_id: str


Command = (
    RegisterUser | LogIn | UpdateProfile | ChangePassword | PromoteUser | ForgetMe | ForgetUser
    | CreatePost | EditPost | PublishPost | ArchivePost | DeletePost | RestorePost
    | AddComment | EditComment | DeleteComment | LikePost | UnlikePost
)
