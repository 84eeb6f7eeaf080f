"""Stream ids that are derived rather than generated.

Likes and login throttles have no id of their own: their stream id is a
name-based UUID, so every process computes the same stream for the same
(post, member) or username without a lookup.
"""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c1f5e-3b0a-4c1e-9d4e-2f8c6a7b9e10")
"""Fixed forever: changing it would orphan every like and throttle stream."""


def like_stream_id(post_id: str, user_id: str) -> str:
    return str(uuid5(NAMESPACE, f"like:{post_id}:{user_id}"))


def throttle_stream_id(username: str) -> str:
    return str(uuid5(NAMESPACE, f"login:{username.lower()}"))
