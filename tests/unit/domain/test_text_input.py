"""Text that storage cannot hold never enters the log (docs/architecture.md, "The log").

Every text a command carries is refused with InvalidInput naming its field when
it holds a lone surrogate (not text at all) or a control character: NUL, the
other C0 controls, DEL and the C1 controls. Multi-line texts (post and comment
bodies, bios) keep tab, newline and carriage return. Nothing is appended.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import validation
from domain.commands import (
    AddComment,
    ChangePassword,
    Command,
    CreatePost,
    DeletePost,
    EditComment,
    EditPost,
    ForgetMe,
    ForgetUser,
    LikePost,
    LogIn,
    PromoteUser,
    RegisterUser,
    UpdateProfile,
)
from domain.errors import InvalidInput, NotFound
from tests.unit.domain.world import World

CONTROLS = {"NUL": "\x00", "BEL": "\x07", "ESC": "\x1b", "DEL": "\x7f", "NEL (C1)": "\x85",
            "CSI (C1)": "\x9b", "vertical tab": "\x0b"}
INVALID = {"lone high surrogate": "\ud800", "lone low surrogate": "\udfff"}
LAYOUT = {"newline": "\n", "tab": "\t", "carriage return": "\r"}
BAD = CONTROLS | INVALID

Write = Callable[[str, str], Command]
"""A command carrying ``text`` in one field, given a published post id of alice's."""

ONE_LINE: dict[str, tuple[str, Write]] = {
    "createPost title": ("title", lambda text, _: CreatePost(f"a{text}b", "body")),
    "createPost tag": ("tags", lambda text, _: CreatePost("title", "body", tags=(f"a{text}b",))),
    "editPost title": ("title", lambda text, post: EditPost(post, title=f"a{text}b")),
    "editPost tag": ("tags", lambda text, post: EditPost(post, tags=(f"a{text}b",))),
    "idempotency key": ("idempotencyKey",
                        lambda text, _: CreatePost("title", "body", idempotency_key=f"k{text}")),
    "comment idempotency key": ("idempotencyKey",
                                lambda text, post: AddComment(post, "hi", f"k{text}")),
    "displayName": ("displayName", lambda text, _: UpdateProfile(display_name=f"a{text}b")),
}
MULTI_LINE: dict[str, tuple[str, Write]] = {
    "createPost body": ("body", lambda text, _: CreatePost("title", f"a{text}b")),
    "editPost body": ("body", lambda text, post: EditPost(post, body=f"a{text}b")),
    "comment body": ("body", lambda text, post: AddComment(post, f"a{text}b")),
    "bio": ("bio", lambda text, _: UpdateProfile(bio=f"a{text}b")),
}


@pytest.fixture
def alice(world: World) -> str:
    return world.member("alice")


@pytest.fixture
def post(world: World, alice: str) -> str:
    return world.post(alice)


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("case", {**ONE_LINE, **MULTI_LINE}.values(),
                         ids={**ONE_LINE, **MULTI_LINE}.keys())
async def test_text_no_storage_can_hold_is_refused_naming_its_field(
    world: World, alice: str, post: str, case: tuple[str, Write], bad: str
) -> None:
    field, write = case

    with pytest.raises(InvalidInput) as refused:
        await world.run(write(bad, post), by=alice)

    assert refused.value.field == field
    assert world.appended == []


@pytest.mark.parametrize("layout", LAYOUT.values(), ids=LAYOUT.keys())
@pytest.mark.parametrize("case", ONE_LINE.values(), ids=ONE_LINE.keys())
async def test_one_line_texts_refuse_layout_characters_too(
    world: World, alice: str, post: str, case: tuple[str, Write], layout: str
) -> None:
    field, write = case

    with pytest.raises(InvalidInput) as refused:
        await world.run(write(layout, post), by=alice)

    assert refused.value.field == field


@pytest.mark.parametrize("case", MULTI_LINE.values(), ids=MULTI_LINE.keys())
async def test_multi_line_texts_keep_tabs_newlines_and_carriage_returns(
    world: World, alice: str, post: str, case: tuple[str, Write]
) -> None:
    _, write = case

    await world.run(write("\tone\r\ntwo\n", post), by=alice)

    assert len(world.appended) == 1


async def test_any_printable_text_is_welcome(world: World, alice: str) -> None:
    title = "Ünïcode — 日本語, emoji 🎉, Zero\u200bwidth, nbsp\u00a0ok"

    await world.run(CreatePost(title, "body 🎉\n"), by=alice)

    assert len(world.appended) == 1


@pytest.mark.parametrize(("command", "field"), [
    (RegisterUser("alice_2", "a\x00@example.org", "password 1"), "email"),
    (RegisterUser("alice_2", "a\ud800@example.org", "password 1"), "email"),
    (RegisterUser("alice_2", "a@example.org", "password \ud800"), "password"),
    (RegisterUser("alice\x00", "a@example.org", "password 1"), "username"),
    (RegisterUser("alice_2", "a@example.org", "password 1", display_name="\x1b[31m"),
     "displayName"),
])
async def test_registrations_are_held_to_the_same_rule(
    world: World, command: RegisterUser, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.run(command)

    assert refused.value.field == field
    assert world.appended == []


async def test_a_password_is_only_hashed_so_control_characters_are_allowed(
    world: World
) -> None:
    await world.run(RegisterUser("alice_2", "a@example.org", "pass\tword\x00"))

    assert len(world.appended) == 1


@pytest.mark.parametrize(("command", "field"), [
    (LogIn("alice\x00", "correct horse"), "username"),
    (LogIn("alice\ud800", "correct horse"), "username"),
    (LogIn("alice", "correct \udc00"), "password"),
])
async def test_a_login_with_text_no_name_or_password_has_is_refused_unrecorded(
    world: World, alice: str, command: LogIn, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.run(command)

    assert refused.value.field == field
    assert world.appended == []


@pytest.mark.parametrize(("command", "field"), [
    (ChangePassword("correct \ud800", "new password"), "currentPassword"),
    (ChangePassword("correct horse", "new \ud800 password"), "newPassword"),
    (ForgetMe("\udfff" * 8), "password"),
])
async def test_password_checks_refuse_invalid_text_before_checking(
    world: World, alice: str, command: Command, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.run(command, by=alice)

    assert refused.value.field == field
    assert world.appended == []


@pytest.mark.parametrize("bad_id", ["post\x00", "\ud800", "a\x85b"])
@pytest.mark.parametrize("command", [
    lambda bad_id: EditPost(bad_id, title="new"),
    lambda bad_id: DeletePost(bad_id),
    lambda bad_id: LikePost(bad_id),
    lambda bad_id: AddComment(bad_id, "hi"),
    lambda bad_id: EditComment(bad_id, "hi"),
    lambda bad_id: ForgetUser(bad_id),
], ids=["editPost", "deletePost", "likePost", "addComment", "editComment", "forgetUser"])
async def test_an_id_no_log_could_hold_names_nothing(
    world: World, bad_id: str, command: Callable[[str], Command]
) -> None:
    root = world.member("root", admin=True)

    with pytest.raises(NotFound):
        await world.run(command(bad_id), by=root)

    assert world.appended == []


async def test_promoting_a_name_no_member_could_have_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await world.run(PromoteUser("root\x00"))


@given(st.text())
def test_storable_text_is_exactly_text_without_controls_or_surrogates(value: str) -> None:
    forbidden = [c for c in value if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F
                 or 0xD800 <= ord(c) <= 0xDFFF]
    try:
        validation.storable("field", value)
    except InvalidInput:
        assert forbidden
    else:
        assert not forbidden
        value.encode()  # and it can be written by any encoder
