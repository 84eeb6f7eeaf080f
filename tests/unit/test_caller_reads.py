"""Who asks is read through one seam (resolvers/context.py), which the response cache trusts.

An answer whose execution never read ``RequestContext.actor`` is shared by
every caller of the same visibility class; these tests keep the seam whole.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from domain.ports import Actor
from resolvers.context import RequestContext

ROOT = Path(__file__).resolve().parents[2]
BOOKKEEPING = {"schema/context.py", "schema/limits.py", "chronicle/cache_front.py",
               "resolvers/context.py"}
"""Where reading the caller without recording it is allowed: before and around execution."""


def context(actor: Actor | None) -> RequestContext:
    return RequestContext(services=Any, actor=actor, request_id="r")  # type: ignore[arg-type]


def test_reading_the_actor_records_it_and_the_bookkeeping_reads_do_not() -> None:
    given = context(Actor(user_id="alice"))
    assert given.identity() == Actor(user_id="alice")
    assert given.is_admin is False  # the class is in every key: not recorded
    assert not given.read_caller
    assert given.actor == Actor(user_id="alice")
    assert given.read_caller


def test_an_anonymous_callers_reads_are_recorded_too() -> None:
    given = context(None)
    assert given.actor is None
    assert given.read_caller


def test_a_copy_for_another_operation_starts_unread() -> None:
    given = context(Actor(user_id="alice"))
    assert given.actor is not None
    copy = dataclasses.replace(given, request_id="other")
    assert not copy.read_caller and copy.identity() == Actor(user_id="alice")


def test_setting_the_actor_is_not_a_read() -> None:
    given = context(None)
    given.actor = Actor(user_id="bob", role="ADMIN")
    assert not given.read_caller
    assert given.is_admin


def test_the_actor_is_required() -> None:
    try:
        RequestContext(services=Any, request_id="r")  # type: ignore[arg-type]
    except TypeError:
        return
    raise AssertionError("a context without actor= was made")


def test_no_resolver_reads_the_caller_around_the_seam() -> None:
    """identity() and the context's _actor are read only where the cache knows it."""
    offenders = []
    pattern = re.compile(r"\.identity\(\)|(ctx|context)\._actor\b")
    for folder in ("resolvers", "schema", "mutations", "chronicle"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in BOOKKEEPING:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
