"""Members: registering, logging in, profiles, passwords, and who sees an email."""

from __future__ import annotations

import pytest

from tests.e2e.members import PASSWORD, Member, register
from tests.e2e.server import Api, code_of, unique

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { token position user { id username } }
}
"""
ME = "{ me { id username displayName bio email role postCount createdAt } }"
USER = "query U($u: String!) { user(username: $u) { id username email displayName } }"
UPDATE = """
mutation U($input: UpdateProfileInput!) {
  updateProfile(input: $input) { position user { displayName bio } }
}
"""


async def test_registering_returns_a_working_token_and_the_new_member(api: Api) -> None:
    member = await register(api)
    me = (await api(ME, token=member.token))["me"]
    assert me["id"] == member.id
    assert me["username"] == member.username
    assert me["displayName"] == member.username  # defaults to the username
    assert me["email"] == member.email
    assert me["role"] == "MEMBER"
    assert me["postCount"] == 0
    assert me["createdAt"].endswith("+00:00")


async def test_anonymous_callers_have_no_me(api: Api) -> None:
    assert (await api(ME))["me"] is None


async def test_an_invalid_token_is_not_a_caller(api: Api) -> None:
    assert (await api(ME, token="not-a-token"))["me"] is None
    error = await api.error(
        "mutation { createPost(input: {title: \"t\", body: \"b\"}) { position } }",
        token="not-a-token",
    )
    assert code_of(error) == "UNAUTHENTICATED"


async def test_logging_in_with_the_right_password_gives_a_token(api: Api) -> None:
    member = await register(api)
    data = await api(LOGIN, {"input": {"username": member.username, "password": PASSWORD}})
    assert data["login"]["user"]["id"] == member.id
    assert (await api(ME, token=data["login"]["token"]))["me"]["id"] == member.id


async def test_a_wrong_password_is_unauthenticated(api: Api) -> None:
    member = await register(api)
    error = await api.error(LOGIN, {"input": {"username": member.username, "password": "nope"}})
    assert code_of(error) == "UNAUTHENTICATED"


async def test_repeated_failed_logins_are_rate_limited_with_retry_after(api: Api) -> None:
    member = await register(api)
    wrong = {"input": {"username": member.username, "password": "wrong password"}}
    for _ in range(3):  # CHRONICLE_LOGIN_MAX_FAILURES=3 on test servers
        assert code_of(await api.error(LOGIN, wrong)) == "UNAUTHENTICATED"
    error = await api.error(LOGIN, {"input": {"username": member.username, "password": PASSWORD}})
    assert code_of(error) == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfter"]
    assert isinstance(retry_after, int) and retry_after > 0


@pytest.mark.parametrize(
    ("username", "email", "password", "field"),
    [
        ("A!", "a@example.org", PASSWORD, "username"),
        ("valid_name_x", "not-an-email", PASSWORD, "email"),
        ("valid_name_y", "y@example.org", "short", "password"),
    ],
)
async def test_invalid_registrations_name_the_offending_field(
    api: Api, username: str, email: str, password: str, field: str
) -> None:
    error = await api.error(
        "mutation R($input: RegisterInput!) { register(input: $input) { token } }",
        {"input": {"username": username, "email": email, "password": password}},
    )
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field


async def test_a_taken_username_is_refused_whatever_its_case(api: Api) -> None:
    member = await register(api)
    error = await api.error(
        "mutation R($input: RegisterInput!) { register(input: $input) { token } }",
        {"input": {"username": member.username.upper(), "email": f"x{member.email}",
                   "password": PASSWORD}},
    )
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "username"


async def test_a_missing_required_input_field_is_bad_user_input_naming_it(api: Api) -> None:
    error = await api.error(
        "mutation R($input: RegisterInput!) { register(input: $input) { token } }",
        {"input": {"username": unique(), "password": PASSWORD}},
    )
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "email"


async def test_email_is_shown_to_its_owner_and_admins_only(api: Api, admin: Member) -> None:
    owner = await register(api)
    other = await register(api)
    variables = {"u": owner.username}
    assert (await api(USER, variables, token=owner.token))["user"]["email"] == owner.email
    assert (await api(USER, variables, token=admin.token))["user"]["email"] == owner.email
    assert (await api(USER, variables, token=other.token))["user"]["email"] is None
    assert (await api(USER, variables))["user"]["email"] is None


async def test_updating_the_profile_shows_in_the_payload(api: Api) -> None:
    member = await register(api)
    data = await api(UPDATE, {"input": {"displayName": "Ada L.", "bio": "Engines"}},
                     token=member.token)
    assert data["updateProfile"]["user"] == {"displayName": "Ada L.", "bio": "Engines"}
    assert int(data["updateProfile"]["position"]) > 0


async def test_a_stale_expected_version_on_a_profile_is_a_conflict(api: Api) -> None:
    member = await register(api)
    error = await api.error(UPDATE, {"input": {"bio": "x", "expectedVersion": 99}},
                            token=member.token)
    assert code_of(error) == "CONFLICT"
    assert (await api(ME, token=member.token))["me"]["bio"] == ""


async def test_updating_a_profile_needs_a_caller(api: Api) -> None:
    assert code_of(await api.error(UPDATE, {"input": {"bio": "x"}})) == "UNAUTHENTICATED"


async def test_changing_the_password_replaces_the_old_one(api: Api) -> None:
    member = await register(api)
    change = """
    mutation C($input: ChangePasswordInput!) { changePassword(input: $input) { user { id } } }
    """
    data = await api(change, {"input": {"currentPassword": PASSWORD,
                                        "newPassword": "another long secret"}},
                     token=member.token)
    assert data["changePassword"]["user"]["id"] == member.id
    new_login = {"input": {"username": member.username, "password": "another long secret"}}
    assert (await api(LOGIN, new_login))["login"]["user"]["id"] == member.id
    old_login = {"input": {"username": member.username, "password": PASSWORD}}
    assert code_of(await api.error(LOGIN, old_login)) == "UNAUTHENTICATED"


async def test_changing_the_password_needs_the_current_one(api: Api) -> None:
    member = await register(api)
    change = "mutation C($i: ChangePasswordInput!) { changePassword(input: $i) { position } }"
    error = await api.error(change, {"i": {"currentPassword": "wrong one",
                                           "newPassword": "another long secret"}},
                            token=member.token)
    assert code_of(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "currentPassword"


async def test_users_are_listed_with_cursor_pagination(api: Api) -> None:
    for _ in range(3):
        await register(api)
    query = """
    query L($after: String) {
      users(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
      }
    }
    """
    first = (await api(query))["users"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"] is True
    second = (await api(query, {"after": first["pageInfo"]["endCursor"]}))["users"]
    first_ids = {e["node"]["id"] for e in first["edges"]}
    assert first_ids.isdisjoint(e["node"]["id"] for e in second["edges"])
    assert first["totalCount"] == second["totalCount"] >= 3
