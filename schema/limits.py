"""Chronicle's one schema extension: limits, caches, the operation's context, error codes.

``schema_extensions()`` is what ``build_schema`` passes to strawberry: a
factory, never an instance, so each operation gets its own extension object.
One extension rather than one per concern: strawberry builds a hook context
for every extension at every stage of every operation, and six of them cost
~8% of a ``createPost``'s CPU (py-spy) for what is a few assignments here.
What it does, stage by stage:

- operation: depth, alias and token limits (one request must not cost the
  server more than a page of data is worth); a websocket operation gets a
  context of its own; on the way out every error gets its contract code
  (``schema.errors``), whatever stage raised it;
- parse: parsed documents are cached; a document that does not parse is left
  to strawberry, which reports it as a result (then BAD_USER_INPUT) instead of
  letting the syntax error escape every extension. Only failures parse twice;
- validate: validation is cached (it dominates small requests, STACK-NOTES:
  145 -> 312 req/s). The cache is keyed by the rule classes too, so the depth
  and alias rules are created once here: strawberry's limiters create a new
  rule class per instance, which would miss the cache on every request;
- execute: wait for the position the operation asks for, or STALE_READ.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import ASTValidationRule, ExecutionResult, GraphQLError
from strawberry.extensions import (
    ParserCache,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.types.graphql import OperationType

from domain.errors import InvalidInput
from resolvers.consistency import StaleRead
from schema.context import operation_context, wait_for_requested_position
from schema.errors import rewrite_errors

Extension = Callable[[], SchemaExtension]

_parse = ParserCache().cached_parse_document
_validate = ValidationCache().cached_validate_document
"""strawberry's module-level LRU caches (shared by every schema in the process)."""


@dataclass(frozen=True)
class Limits:
    """Defaults equal ``chronicle.settings.Settings``' (``CHRONICLE_MAX_QUERY_DEPTH`` …)."""

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000


class Operation(SchemaExtension):
    def __init__(self, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        super().__init__()
        self.max_tokens = max_tokens
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = self.max_tokens
        ctx.validation_rules = ctx.validation_rules + self.rules
        ctx.context = operation_context(ctx.context)
        yield
        rewrite_errors(ctx.result, self._request_id())

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        with contextlib.suppress(GraphQLError):
            ctx.graphql_document = _parse(ctx.query, **ctx.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.pre_execution_errors = _validate(
            ctx.schema._schema, ctx.graphql_document, ctx.validation_rules
        )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        try:
            await wait_for_requested_position(ctx.context, ctx.operation_extensions)
        except (StaleRead, InvalidInput) as refusal:
            if ctx.operation_type is OperationType.SUBSCRIPTION:
                raise  # strawberry turns it into the subscription's error result
            error = GraphQLError(str(refusal), original_error=refusal)
            ctx.result = ExecutionResult(data=None, errors=[error])
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        rewrite_errors(result, self._request_id())
        yield None

    def _request_id(self) -> str | None:
        return getattr(self.execution_context.context, "request_id", None)


def schema_extensions(limits: Limits | None = None) -> list[Extension]:
    limits = limits or Limits()
    rules = (
        query_depth_limiter.create_validator(limits.max_query_depth, None),
        max_aliases.create_validator(limits.max_aliases),
    )
    return [lambda: Operation(limits.max_tokens, rules)]
