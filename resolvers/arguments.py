"""Text arguments of reads, held to the rule of what the log accepts (domain.validation).

An id that no log could hold (a NUL, a control character, a lone surrogate)
names nothing, so it gets the contract's answer for "no such thing": null or an
empty page. Any other text argument with such characters is BAD_USER_INPUT
naming it: no stored row could match, and PostgreSQL would refuse the NUL.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain import validation

MAX_SEARCH = 200
"""Longest ``posts(search:)``: a phrase, not a document (LIKE patterns have limits)."""


def names_nothing(id_: str) -> bool:
    return not validation.one_line(id_)


def text(field: str, value: str) -> str:
    return validation.storable(field, value)


def texts(field: str, values: Sequence[str]) -> list[str]:
    return [validation.storable(field, value) for value in values]


def search(value: str) -> str:
    return validation.text("search", value, min_len=0, max_len=MAX_SEARCH, strip=False)
