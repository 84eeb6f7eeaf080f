"""ResponseCache's rules, without a server: bounds, positions, notices and races."""

from __future__ import annotations

from chronicle.response_cache import Key, ResponseCache, etag_of, matches

TAGS = frozenset({"posts", "users"})


def key(n: int = 0, who: str | None = None) -> Key:
    return ("{ q }", None, str(n).encode(), "member" if who else "anonymous", who)


def cache(entries: int = 10, size: int = 1000, applied: dict[str, int] | None = None
          ) -> ResponseCache:
    c = ResponseCache(max_entries=entries, max_bytes=size, tags=TAGS,
                      positions=(lambda: applied) if applied is not None else None)
    c.listening = True
    return c


def fill(c: ResponseCache, k: Key, data: bytes = b"{}", min_position: int | None = None) -> None:
    ticket = c.ticket(k)
    assert ticket is not None
    c.store(ticket, data, 3, min_position)


def test_an_answer_is_a_hit_until_a_notice_of_a_projection_it_read_arrives() -> None:
    c = cache()
    assert c.get(key(), None) is None
    fill(c, key(), b'{"a":1}')
    hit = c.get(key(), None)
    assert hit is not None and hit.data == b'{"a":1}' and hit.cost == 3
    c.heard_notice({"projection": "users", "position": 7, "changes": []})
    assert c.get(key(), None) is None
    assert (c.hits, c.misses, c.evictions) == (1, 2, 1)


def test_requests_about_a_rebuild_or_retry_evict_nothing_by_themselves() -> None:
    c = cache()
    fill(c, key())
    c.heard_notice({"projection": "posts", "rebuild": 2, "owner": "x"})
    assert c.get(key(), None) is not None


def test_an_answer_computed_while_a_notice_arrived_is_not_stored() -> None:
    c = cache()
    ticket = c.ticket(key())
    assert ticket is not None
    c.heard_notice({"projection": "posts", "position": 3, "changes": []})
    c.store(ticket, b"{}", 1, None)
    assert len(c) == 0


def test_a_min_position_past_what_the_entry_is_known_exact_for_misses() -> None:
    c = cache()
    c.heard.update(posts=10, users=8)
    fill(c, key())  # exact at 8 (what both projections had at least applied)
    assert c.get(key(), 8) is not None
    assert c.get(key(), 9) is None
    c.heard.update(users=12)  # heard through 10 with no eviction: still exact there
    assert c.get(key(), 10) is not None
    assert c.get(key(), 11) is None


def test_a_batch_applied_here_but_not_yet_announced_makes_it_miss() -> None:
    applied = {"posts": 5, "users": 5}
    c = cache(applied=applied)
    c.heard.update(posts=5, users=5)
    fill(c, key())
    applied["posts"] = 6
    assert c.get(key(), None) is None
    assert c.ticket(key()) is None


def test_nothing_is_served_or_stored_while_the_notices_are_cut_off() -> None:
    c = cache()
    fill(c, key())
    c.listening = False
    assert c.get(key(), None) is None
    assert c.ticket(key()) is None


def test_callers_have_entries_of_their_own() -> None:
    c = cache()
    fill(c, key(who="alice"), b'{"me":"alice"}')
    assert c.get(key(who="bob"), None) is None
    assert c.get(key(), None) is None


def test_it_stays_within_its_entries_and_bytes_dropping_the_least_recently_used() -> None:
    c = cache(entries=3, size=10)
    for n in range(3):
        fill(c, key(n), b"abc")
    assert c.get(key(0), None) is not None  # 0 is now the most recently used
    fill(c, key(3), b"abc")
    assert c.get(key(1), None) is None
    assert len(c) == 3 and c.size_bytes == 9
    fill(c, key(4), b"abcdefgh")  # 8 bytes: the older ones go until it fits
    assert c.size_bytes <= 10
    fill(c, key(5), b"x" * 11)  # larger than the whole cache: never stored
    assert c.get(key(5), None) is None


def test_etags_name_the_bytes_and_if_none_match_compares_weakly() -> None:
    tag = etag_of(b'{"a":1}')
    assert tag != etag_of(b'{"a":2}')
    assert matches(tag, tag)
    assert matches(f'"other", W/{tag}', tag)
    assert matches("*", tag)
    assert not matches(None, tag) and not matches('"other"', tag)


def test_only_plain_requests_are_cacheable_and_variables_are_keyed_canonically() -> None:
    from chronicle.response_cache import cacheable

    plain = cacheable(b'{"query": "{ q }", "variables": {"b": 1, "a": 2}}', "7")
    assert plain == (("{ q }", None, b'{"a":2,"b":1}'), 7)
    assert cacheable(b'{"query": "{ q }", "variables": null}', None) == (
        ("{ q }", None, b"{}"), None
    )
    for body in (b'{"query": "{ q }", "extensions": {"minPosition": "3"}}',
                 b'{"query": "{ q }", "extensions": 0}', b'{"query": 1}', b"[]", b"nope",
                 b'{"query": "{ q }", "other": 1}'):
        assert cacheable(body, None) is None, body
    assert cacheable(b'{"query": "{ q }"}', "not a position") is None
