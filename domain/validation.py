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

# What no text field may hold (docs/architecture.md, "The log": what the log accepts, every
# backend's read tables can hold): lone surrogates are not text at all (no
# encoding can write them), NUL is refused by PostgreSQL, and the other C0
# controls, DEL and the C1 controls are invisible noise a member cannot type.
# Multi-line fields keep the three that lay text out: tab, newline, carriage return.
INVALID = re.compile(r"[\ud800-\udfff]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_IN_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def valid(field: str, value: str) -> str:
    """Refuse what is not text: a lone surrogate cannot be encoded, stored or hashed."""
    if INVALID.search(value):
        raise InvalidInput(field, f"{field} is not valid text (a lone surrogate)")
    return value


def storable(field: str, value: str, *, multiline: bool = False) -> str:
    """Refuse text that a read table cannot hold or a member cannot have typed."""
    valid(field, value)
    if (CONTROL_IN_LINES if multiline else CONTROL).search(value):
        raise InvalidInput(field, f"{field} must not contain control characters")
    return value


def one_line(value: str) -> bool:
    """Whether ``value`` could be a name, key or id anywhere in Chronicle's storage."""
    return not (INVALID.search(value) or CONTROL.search(value))


def text(
    field: str, value: str, *, min_len: int, max_len: int, strip: bool = True,
    multiline: bool = False,
) -> str:
    storable(field, value, multiline=multiline)
    return _length(field, value.strip() if strip else value, min_len, max_len)


def _length(field: str, cleaned: str, min_len: int, max_len: int) -> str:
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
    normalised = storable("email", value).strip().lower()
    if len(normalised) > 320 or not EMAIL.fullmatch(normalised):
        raise InvalidInput("email", "email is not a valid address")
    return normalised


def email_digest(normalised_email: str) -> str:
    """What the uniqueness claim stores: never the address itself (it must be shreddable)."""
    return hashlib.sha256(normalised_email.encode()).hexdigest()


def password(field: str, value: str) -> str:
    # Never stripped: spaces are part of a password. Nor held to ``storable``: it is
    # only ever hashed, so any text will do (and members who chose one keep it).
    return _length(field, valid(field, value), 8, 1024)


def tags(values: Iterable[str]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for value in values:
        tag = text("tags", value, min_len=1, max_len=32).lower()
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput("tags", f"at most {MAX_TAGS} tags")
    return tuple(cleaned)
