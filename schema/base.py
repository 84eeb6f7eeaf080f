"""What every object type of the contract builds on: the resolvers' ``Info``,
fields typed with their description, and the ``PageInfo`` of every connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

from resolvers.context import RequestContext
from resolvers.pagination import Page

Info = strawberry.Info[RequestContext, None]
F = TypeVar("F", bound=Callable[..., Any])


def described_field(description: str) -> Callable[[F], F]:
    """``@strawberry.field(description=...)``, typed: strawberry's overload for it is Any."""
    return cast(Callable[[F], F], strawberry.field(description=description))


def described_subscription(description: str) -> Callable[[F], F]:
    return cast(Callable[[F], F], strawberry.subscription(description=description))


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def from_page(cls, page: Page[Any]) -> PageInfo:
        return cls(has_next_page=page.has_next_page, end_cursor=page.end_cursor)
