"""Stored JSON: camelCase keys, orjson encoding.

Events are snake_case dataclasses in Python and camelCase in stored and
served JSON; only top-level keys are renamed (event fields are flat).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson


@lru_cache(maxsize=4096)
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@lru_cache(maxsize=4096)
def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def camel_keys(data: dict[str, Any]) -> dict[str, Any]:
    return {camel(k): v for k, v in data.items()}


def snake_keys(data: dict[str, Any]) -> dict[str, Any]:
    return {snake(k): v for k, v in data.items()}


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)
