"""Command handlers: load, decide, append. One short function per command, one table.

The rules, in one place (details beside each aggregate; InvalidInput names the
GraphQL input field):

Users (domain.user)
- register: username 3-32 of [A-Za-z0-9_], unique case-insensitively; email a
  plausible address <= 320 chars, normalised lower-case, unique (claimed by its
  sha256, never in plain text); password 8-1024; displayName 1-100, default the
  username. Both claims are taken in the same commit as UserRegistered.
- logIn: per username, ``login_max_failures`` failures within
  ``login_window_seconds`` since the last success give RATE_LIMITED (retryAfter
  = until the oldest of them leaves the window) before the password is checked.
  Every failure (unknown user, wrong password, forgotten user) is recorded and
  answers the same UNAUTHENTICATED; a success after failures resets the count.
  A username that is no text a name could be (control characters, a lone
  surrogate) is BAD_USER_INPUT, and nothing is recorded for it.
- updateProfile: displayName 1-100, bio <= 2000; only changed fields recorded.
- changePassword: the current password must match (else currentPassword).
  forgetMe: the password must match (else password). A wrong password there
  is a failed login of the caller's username: same throttle, same RATE_LIMITED,
  so a stolen token cannot guess the password faster than a login could.
  Tokens issued before a password change no longer name the user (logIn and
  changePassword report the count of changes, ``credentials``, that the token
  they issue carries).
- forgetMe / forgetUser (admins only): the user's key is
  shredded and their email claim released; the username stays taken. A
  forgotten user can neither log in nor act.
- promote: a system event (no actor); promoting an admin records nothing.

Posts (domain.post)
- title 1-200 (stripped), body <= 100 000, <= 10 tags of 1-32 chars,
  lower-cased, duplicates dropped. No text holds a lone surrogate or a control
  character (bodies and bios keep tab, newline and carriage return): what
  the log accepts, every backend can store (domain.validation).
- DRAFT -> PUBLISHED <-> ARCHIVED; archiving a draft is invalid; deleted is
  final (NOT_FOUND from then on).
- Only the author edits, publishes and restores; the author or an admin
  archives and deletes. Others get NOT_FOUND for posts they cannot see (drafts,
  archived) and FORBIDDEN for published ones.
- restorePost(version): 1 <= version <= current; records the content of then.

Comments and likes (domain.comment, domain.like)
- comment body 1-10 000 (stripped), only on published posts; the comment's
  author edits; the comment's author, the post's author or an admin deletes.
- a like is one stream per (post, member): liking twice is one like,
  unliking what is not liked records nothing; published posts only.

Idempotency keys (createPost, addComment; domain.idempotency): scoped to the
caller and the operation, stored with a fingerprint of the input. The same
input again returns the first result and appends nothing; other input with the
key is BAD_USER_INPUT on idempotencyKey; a key is 1-255 printable characters,
not blank.

Every command: unauthenticated callers get UNAUTHENTICATED. Without
``expected_version`` a concurrent change is retried ``max_retries`` times on a
fresh load; with one, a mismatch is CONFLICT and nothing is appended. A
command that records nothing returns the position of the newest event it read.

The handlers are grouped by aggregate, one module each (``domain.handlers.users``,
``.posts``, ``.comments``, ``.likes``); this module keeps the table that maps
each command type to its handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from domain.commands import (
    AddComment,
    ArchivePost,
    ChangePassword,
    Command,
    CreatePost,
    DeleteComment,
    DeletePost,
    EditComment,
    EditPost,
    ForgetMe,
    ForgetUser,
    LikePost,
    LogIn,
    PromoteUser,
    PublishPost,
    RegisterUser,
    RestorePost,
    UnlikePost,
    UpdateProfile,
)
from domain.handlers.comments import add_comment, delete_comment, edit_comment
from domain.handlers.likes import like_post, unlike_post
from domain.handlers.posts import (
    archive_post,
    create_post,
    delete_post,
    edit_post,
    publish_post,
    restore_post,
)
from domain.handlers.users import (
    change_password,
    forget_me,
    forget_user,
    log_in,
    promote_user,
    register_user,
    update_profile,
)
from domain.ports import Context, Outcome

Handler = Callable[[Any, Context], Awaitable[Outcome]]


# --- the table ---------------------------------------------------------------

HANDLERS: dict[type, Handler] = {
    RegisterUser: register_user,
    LogIn: log_in,
    UpdateProfile: update_profile,
    ChangePassword: change_password,
    ForgetMe: forget_me,
    ForgetUser: forget_user,
    PromoteUser: promote_user,
    CreatePost: create_post,
    EditPost: edit_post,
    PublishPost: publish_post,
    ArchivePost: archive_post,
    DeletePost: delete_post,
    RestorePost: restore_post,
    AddComment: add_comment,
    EditComment: edit_comment,
    DeleteComment: delete_comment,
    LikePost: like_post,
    UnlikePost: unlike_post,
}


async def handle(command: Command, ctx: Context) -> Outcome:
    """Run the handler registered for the command's type."""
    return await HANDLERS[type(command)](command, ctx)
