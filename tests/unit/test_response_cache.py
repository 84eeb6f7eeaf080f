"""ResponseCache's rules, without a server: bounds, positions, notices and races."""

from __future__ import annotations

import asyncio

from chronicle.cache_entries import ANY
from chronicle.cache_keys import Key, keys
from chronicle.response_cache import ResponseCache
from domain.ports import Actor
from events.read_recording import Reads

PROJECTIONS = frozenset({"posts", "users"})
READ_MODEL = frozenset({"posts", "likes", "users", "user_posts", "comments"})
FEED_READS = ("posts_g1", "users_g1")


def key(n: int = 0, who: str | None = None, kind: str | None = None) -> tuple[Key, Key | None]:
    actor = None if who is None else Actor(user_id=who, role=kind or "MEMBER")
    return keys(("{ q }", None, str(n).encode()), actor)


def cache(entries: int = 10, size: int = 1000, applied: dict[str, int] | None = None
          ) -> ResponseCache:
    c = ResponseCache(max_entries=entries, max_bytes=size, projections=PROJECTIONS,
                      read_model=READ_MODEL,
                      positions=(lambda: applied) if applied is not None else None)
    c.listening = True
    return c


def reads(*tables: str, unknown: bool = False) -> Reads:
    return Reads(set(tables), unknown)


def fill(c: ResponseCache, k: tuple[Key, Key | None], data: bytes = b"{}",
         min_position: int | None = None, *, personal: bool = False,
         read: tuple[str, ...] = FEED_READS) -> None:
    ticket = c.ticket(*k)
    assert ticket is not None
    c.store(ticket, data, 3, min_position, personal=personal, reads=reads(*read))
    c.land(ticket)


def notice(projection: str, position: int, *tables: str) -> dict[str, object]:
    return {"projection": projection, "position": position, "changes": [], "tables": [*tables]}


def test_an_answer_is_a_hit_until_a_notice_names_a_table_it_read() -> None:
    c = cache()
    assert c.lookup(*key(), None) is None
    fill(c, key(), b'{"a":1}')
    hit = c.lookup(*key(), None)
    assert hit is not None and hit.data == b'{"a":1}' and hit.cost == 3
    c.heard_notice(notice("users", 7, "users"))
    assert c.lookup(*key(), None) is None
    assert (c.hits, c.misses, c.evictions) == (1, 2, 1)


def test_a_notice_of_other_tables_leaves_the_entry() -> None:
    c = cache()
    fill(c, key(1), read=("users_g1",))
    fill(c, key(2), read=("posts_g1", "likes_g1"))
    c.heard_notice(notice("posts", 7, "likes", "posts"))
    assert c.lookup(*key(1), None) is not None
    assert c.lookup(*key(2), None) is None


def test_what_no_notice_names_is_evicted_by_every_notice() -> None:
    c = cache()
    fill(c, key(1), read=("events",))  # the log: no projection's table
    fill(c, key(2), read=("posts_g1",), )
    c.heard_notice(notice("users", 3))  # a batch that wrote nothing
    assert c.lookup(*key(1), None) is None
    assert c.lookup(*key(2), None) is not None
    ticket = c.ticket(*key(3))
    assert ticket is not None
    c.store(ticket, b"{}", 1, None, personal=False, reads=reads("posts_g1", unknown=True))
    assert c.lookup(*key(3), None) is not None
    assert c.lookup(*key(3), None).tags == frozenset({ANY})  # type: ignore[union-attr]
    c.heard_notice(notice("users", 4))
    assert c.lookup(*key(3), None) is None


def test_a_notice_without_tables_evicts_everything() -> None:
    c = cache()
    fill(c, key(1), read=("users_g1",))
    c.heard_notice({"projection": "posts", "position": 9, "changes": []})  # a swap
    assert c.lookup(*key(1), None) is None


def test_requests_about_a_rebuild_or_retry_evict_nothing_by_themselves() -> None:
    c = cache()
    fill(c, key())
    c.heard_notice({"projection": "posts", "rebuild": 2, "owner": "x"})
    assert c.lookup(*key(), None) is not None


def test_an_answer_computed_while_a_notice_of_its_tables_arrived_is_not_stored() -> None:
    c = cache()
    ticket = c.ticket(*key())
    assert ticket is not None
    c.heard_notice(notice("posts", 3, "posts"))
    c.store(ticket, b"{}", 1, None, personal=False, reads=reads("posts_g1"))
    assert len(c) == 0
    ticket = c.ticket(*key())
    assert ticket is not None
    c.heard_notice(notice("posts", 4, "likes"))  # not what it read: still exact
    c.store(ticket, b"{}", 1, None, personal=False, reads=reads("posts_g1"))
    assert len(c) == 1


def test_a_min_position_past_what_the_entry_is_known_exact_for_misses() -> None:
    c = cache()
    c.heard.update(posts=10, users=8)
    fill(c, key())  # exact at 8 (what both projections had at least applied)
    assert c.lookup(*key(), 8) is not None
    assert c.lookup(*key(), 9) is None
    c.heard.update(users=12)  # heard through 10 with no eviction: still exact there
    assert c.lookup(*key(), 10) is not None
    assert c.lookup(*key(), 11) is None


def test_a_batch_applied_here_but_not_yet_announced_makes_it_miss() -> None:
    applied = {"posts": 5, "users": 5}
    c = cache(applied=applied)
    c.heard.update(posts=5, users=5)
    fill(c, key())
    applied["posts"] = 6
    assert c.lookup(*key(), None) is None
    assert c.ticket(*key()) is None


def test_nothing_is_served_or_stored_while_the_notices_are_cut_off() -> None:
    c = cache()
    fill(c, key())
    c.listening = False
    assert c.lookup(*key(), None) is None
    assert c.ticket(*key()) is None


def test_an_answer_that_never_read_the_caller_is_shared_by_their_class() -> None:
    c = cache()
    fill(c, key(who="alice"), b'{"feed":1}')
    assert c.lookup(*key(who="bob"), None) is not None
    assert c.lookup(*key(), None) is None  # anonymous callers are another class
    assert c.lookup(*key(who="root", kind="ADMIN"), None) is None  # and so are admins


def test_an_answer_that_read_the_caller_is_theirs_alone() -> None:
    c = cache()
    fill(c, key(who="alice"), b'{"me":"alice"}', personal=True)
    assert c.lookup(*key(who="bob"), None) is None
    assert c.lookup(*key(), None) is None
    hit = c.lookup(*key(who="alice"), None)
    assert hit is not None and hit.data == b'{"me":"alice"}'


def test_an_anonymous_answer_that_read_the_caller_is_still_every_anonymous_callers() -> None:
    c = cache()
    fill(c, key(), b'{"me":null}', personal=True)
    assert c.lookup(*key(), None) is not None


def test_a_miss_waits_for_the_running_miss_of_its_shared_key_and_then_looks_again() -> None:
    async def scenario() -> None:
        c = cache()
        leader = c.ticket(*key(who="alice"))
        assert leader is not None and leader.leads
        waiting = asyncio.create_task(c.wait_for_flight(key(who="bob")[0]))
        await asyncio.sleep(0)
        assert not waiting.done()
        c.store(leader, b'{"feed":1}', 1, None, personal=False, reads=reads("posts_g1"))
        c.land(leader)
        assert await waiting
        assert c.find(*key(who="bob"), None) is not None
        assert not await c.wait_for_flight(key(who="bob")[0])  # nothing running now

    asyncio.run(scenario())


def test_nobody_waits_for_a_key_whose_answers_are_each_members_own() -> None:
    c = cache()
    fill(c, key(who="alice"), personal=True)
    leader = c.ticket(*key(who="carol"))
    assert leader is not None and leader.leads
    assert c.flight(key(who="bob")[0]) is None


def test_it_stays_within_its_entries_and_bytes_dropping_the_least_recently_used() -> None:
    c = cache(entries=3, size=10)
    for n in range(3):
        fill(c, key(n), b"abc")
    assert c.lookup(*key(0), None) is not None  # 0 is now the most recently used
    fill(c, key(3), b"abc")
    assert c.lookup(*key(1), None) is None
    assert len(c) == 3 and c.size_bytes == 9
    fill(c, key(4), b"abcdefgh")  # 8 bytes: the older ones go until it fits
    assert c.size_bytes <= 10
    fill(c, key(5), b"x" * 11)  # larger than the whole cache: never stored
    assert c.lookup(*key(5), None) is None
    c.heard_notice(notice("posts", 1, "posts"))
    assert len(c) == 0 and c.size_bytes == 0
