"""What the response cache files an answer under: a request's key, and an answer's ETag.

- **Key**: the document, the operation name, the variables (canonical JSON),
  the caller's visibility class (anonymous, member or admin: the role is
  always in the key) and, only for an answer that depends on who asks, the
  member's id. Which answers do: the request context records every read of
  the caller (``RequestContext.actor``, one descriptor that every resolver
  path goes through: ``me``, ``email``, ``likedByMe``, drafts and other
  statuses, the past's visibility, the log's). An answer whose execution
  never read it is computed from the document, the variables, the read
  model and the class alone, so it is the answer for every caller of the
  class: it is stored under the class's *shared* key. One that did read it
  goes under the member's *own* key. Lookups try the shared key, then the
  own one. What reads the caller before execution (the token check, this
  key, the cost budget) uses ``RequestContext.identity``, which records
  nothing and appears in no resolver.
- **Cacheable**: only a plain request (a JSON object of ``query``,
  ``operationName`` and ``variables``, without ``extensions``) has a key;
  anything unusual is the executor's to answer or refuse.
- **ETag**: a hash of the answer's ``data``; ``If-None-Match`` compares weakly.
"""

from __future__ import annotations

import hashlib

import orjson

from domain.errors import InvalidInput
from domain.ports import Actor
from schema.context import parse_position

Key = tuple[str, str | None, bytes, str, str | None]
"""(document, operation name, variables as canonical JSON, visibility class, member id
or None: the class's shared key)."""

_REQUEST_KEYS = frozenset({"query", "operationName", "variables", "extensions"})


def cacheable(
    body: bytes, min_position_header: str | None
) -> tuple[tuple[str, str | None, bytes], int | None] | None:
    """(document, operation name, canonical variables) and minPosition, or None: uncacheable."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    # Extensions may change the answer (minPosition); even 0 or false is the executor's.
    if not isinstance(payload, dict) or payload.get("extensions") not in (None, {}) or (
        payload.keys() - _REQUEST_KEYS
    ):
        return None
    query, name, variables = (
        payload.get("query"), payload.get("operationName"), payload.get("variables")
    )
    if not isinstance(query, str) or not isinstance(name, str | None) or not isinstance(
        variables, dict | None
    ):
        return None
    try:
        min_position = parse_position(min_position_header, "minPosition")
    except InvalidInput:
        return None
    # Kept in every entry's key: a right-sized copy, not orjson's 4 KiB buffer.
    canonical = bytes(memoryview(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)))
    return (query, name, canonical), min_position


def keys(request: tuple[str, str | None, bytes], actor: Actor | None) -> tuple[Key, Key | None]:
    """The shared key of the caller's visibility class, and the member's own (None for
    anonymous callers). The role is in both: an admin's answer is never a member's."""
    query, name, variables = request
    if actor is None:
        return (query, name, variables, "anonymous", None), None
    kind = "admin" if actor.is_admin else "member"
    return (query, name, variables, kind, None), (query, name, variables, kind, actor.user_id)


def etag_of(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` names the ETag (or ``*``), weak comparison as RFC 9110 says."""
    if not if_none_match:
        return False
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in wanted or etag in wanted
