"""Credentials in memory (resolvers/credentials.py): exact while the notices are heard."""

from __future__ import annotations

from resolvers.credentials import Credential, Credentials

MEMBER = Credential("MEMBER", forgotten=False, version=0)


def memory(applied: dict[str, int] | None = None) -> Credentials:
    c = Credentials(positions=(lambda: applied) if applied is not None else None)
    c.listening = True
    return c


def kept(c: Credentials, user_id: str, found: Credential | None = MEMBER) -> None:
    c.keep(c.ticket(), user_id, found)


def users_notice(position: int, *ids: str, tables: list[str] | None = None
                 ) -> dict[str, object]:
    return {"projection": "users", "position": position,
            "changes": [{"kind": "user", "id": i, "change": "UPDATED"} for i in ids],
            "tables": ["users"] if tables is None else tables}


def test_a_row_read_once_is_answered_from_memory() -> None:
    c = memory()
    assert c.known("alice") == (False, None)
    kept(c, "alice")
    assert c.known("alice") == (True, MEMBER)


def test_a_member_not_projected_yet_is_remembered_until_a_batch_adds_them() -> None:
    c = memory()
    kept(c, "new", None)
    assert c.known("new") == (True, None)
    c.heard_notice(users_notice(3, "new"))
    assert c.known("new") == (False, None)


def test_a_users_batch_forgets_exactly_the_rows_it_wrote() -> None:
    c = memory()
    kept(c, "alice")
    kept(c, "bob")
    c.heard_notice(users_notice(5, "alice"))
    assert c.known("alice") == (False, None)
    assert c.known("bob") == (True, MEMBER)


def test_a_batch_of_other_tables_or_projections_forgets_nothing() -> None:
    c = memory()
    kept(c, "alice")
    c.heard_notice(users_notice(5, tables=["user_posts"]))
    c.heard_notice({"projection": "posts", "position": 6, "changes": [], "tables": ["users"]})
    assert c.known("alice") == (True, MEMBER)


def test_a_notice_that_may_have_changed_anything_forgets_everything() -> None:
    c = memory()
    kept(c, "alice")
    c.heard_notice({"projection": "users", "position": 9, "changes": []})  # a swap
    assert c.known("alice") == (False, None)
    kept(c, "alice")
    c.heard_notice(users_notice(10))  # users written, rows not named
    assert c.known("alice") == (False, None)


def test_a_row_read_while_a_users_batch_was_announced_is_not_kept() -> None:
    c = memory()
    ticket = c.ticket()
    c.heard_notice(users_notice(4, "someone else"))
    c.keep(ticket, "alice", MEMBER)
    assert c.known("alice") == (False, None)


def test_nothing_comes_from_memory_while_cut_off_or_behind_this_process_runner() -> None:
    applied = {"users": 5}
    c = memory(applied)
    c.subscribed({"users": 5})
    kept(c, "alice")
    applied["users"] = 6  # applied here, not yet announced
    assert c.known("alice") == (False, None)
    assert c.ticket() is None
    c.heard_notice(users_notice(6, "bob"))
    assert c.known("alice") == (True, MEMBER)
    c.listening = False
    c.cut_off()
    assert c.known("alice") == (False, None)
    assert c.ticket() is None
