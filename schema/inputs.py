"""The contract's input types. Plain values: validation belongs to the domain's rules."""

from __future__ import annotations

import strawberry


@strawberry.input
class RegisterInput:
    username: str
    email: str
    password: str
    display_name: str | None = None


@strawberry.input
class LoginInput:
    username: str
    password: str


@strawberry.input
class UpdateProfileInput:
    display_name: str | None = None
    bio: str | None = None
    expected_version: int | None = None


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


IDEMPOTENCY_KEY = (
    "Retries with the same key within 24 h return the first result and append nothing. "
    "A key is the caller's, for this operation (1-255 printable characters); sent again "
    "with other input it fails with BAD_USER_INPUT (field idempotencyKey). The 24 h are "
    "the default of the server's CHRONICLE_IDEMPOTENCY_TTL_SECONDS."
)


@strawberry.input
class CreatePostInput:
    title: str
    body: str
    tags: list[str] | None = strawberry.field(default_factory=list)
    publish: bool | None = strawberry.field(
        default=False, description="Publish at once instead of saving a draft."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class EditPostInput:
    id: strawberry.ID
    title: str | None = None
    body: str | None = None
    tags: list[str] | None = None
    expected_version: int | None = strawberry.field(
        default=None,
        description="When given and not equal to the post's current version: CONFLICT, "
        "nothing appended.",
    )


@strawberry.input
class AddCommentInput:
    post_id: strawberry.ID
    body: str
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)
