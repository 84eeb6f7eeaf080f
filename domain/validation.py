"""Input rules shared by the aggregates. Errors name the GraphQL input field (camelCase)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from domain.errors import InvalidInput

USERNAME = re.compile(r"[A-Za-z0-9_]{3,32}")
# Deliberately loose: one @, no spaces, a dotted domain. Real proof of an address is a mail.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
MAX_TAGS = 10


def text(field: str, value: str, *, min_len: int, max_len: int, strip: bool = True) -> str:
    cleaned = value.strip() if strip else value
    if len(cleaned) < min_len:
        raise InvalidInput(field, f"{field} must not be empty" if min_len == 1
                           else f"{field} must be at least {min_len} characters")
    if len(cleaned) > max_len:
        raise InvalidInput(field, f"{field} must be at most {max_len} characters")
    return cleaned


def username(value: str) -> str:
    if not USERNAME.fullmatch(value):
        raise InvalidInput("username", "username must be 3-32 letters, digits or underscores")
    return value


def email(value: str) -> str:
    normalised = value.strip().lower()
    if len(normalised) > 320 or not EMAIL.fullmatch(normalised):
        raise InvalidInput("email", "email is not a valid address")
    return normalised


def email_digest(normalised_email: str) -> str:
    """What the uniqueness claim stores: never the address itself (it must be shreddable)."""
    return hashlib.sha256(normalised_email.encode()).hexdigest()


def password(field: str, value: str) -> str:
    # never stripped: spaces are part of a password
    return text(field, value, min_len=8, max_len=1024, strip=False)


def tags(values: Iterable[str]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for value in values:
        tag = text("tags", value, min_len=1, max_len=32).lower()
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput("tags", f"at most {MAX_TAGS} tags")
    return tuple(cleaned)
