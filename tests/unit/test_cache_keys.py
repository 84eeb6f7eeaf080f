"""What the response cache files an answer under: which requests have a key, and ETags."""

from __future__ import annotations

from chronicle.cache_keys import cacheable, etag_of, matches


def test_etags_name_the_bytes_and_if_none_match_compares_weakly() -> None:
    tag = etag_of(b'{"a":1}')
    assert tag != etag_of(b'{"a":2}')
    assert matches(tag, tag)
    assert matches(f'"other", W/{tag}', tag)
    assert matches("*", tag)
    assert not matches(None, tag) and not matches('"other"', tag)


def test_only_plain_requests_are_cacheable_and_variables_are_keyed_canonically() -> None:
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
