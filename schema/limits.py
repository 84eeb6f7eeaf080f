"""Chronicle's one schema extension: limits, caches, the operation's context, error codes.

``schema_extensions()`` is what ``build_schema`` passes to strawberry: a
factory, never an instance, so each operation gets its own extension object.
One extension rather than one per concern: strawberry builds a hook context
for every extension at every stage of every operation, and several of them
cost a visible share of a small mutation's CPU for what is a few assignments here.
What it does, stage by stage:

- operation: depth, alias and token limits (one request must not cost the
  server more than a page of data is worth); a websocket operation gets a
  context of its own; on the way out every error gets its contract code
  (``schema.errors``), whatever stage raised it;
- parse: parsed documents are cached; a document that does not parse is left
  to strawberry, which reports it as a result (then BAD_USER_INPUT) instead of
  letting the syntax error escape every extension. Only failures parse twice;
- validate: validation is cached (it dominates the CPU of small requests).
  The cache is keyed by the rule classes too, so the depth and alias rules are
  created once here: strawberry's limiters create a new rule class per
  instance, which would miss the cache on every request;
- execute: the operation's type is noted on the context (only queries'
  answers are cached, ``chronicle.response_cache``); the operation's cost
  (``schema.cost``, now that its variables are known) is admitted or refused
  by ``schema.quotas`` before anything runs,
  for queries, mutations and subscriptions alike, and every result shows it
  in ``extensions.cost``; then wait for the position the operation asks for,
  or STALE_READ.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import ASTValidationRule, DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema
from strawberry.extensions import (
    ParserCache,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from domain.errors import InvalidInput, RateLimited
from resolvers.consistency import StaleRead
from resolvers.context import RequestContext
from schema.adapters import graphql_core_schema
from schema.context import ChronicleContext, operation_context, wait_for_requested_position
from schema.cost import operation_cost, root_field_count
from schema.errors import rewrite_errors
from schema.quotas import Charge, Quotas, caller_key

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
    max_query_cost: int = 5000


class Operation(SchemaExtension):
    def __init__(
        self, max_tokens: int, rules: tuple[type[ASTValidationRule], ...], quotas: Quotas
    ) -> None:
        super().__init__()
        self.max_tokens = max_tokens
        self.rules = rules
        self.quotas = quotas
        self.cost: Charge | None = None
        self._shown: tuple[Charge, dict[str, Any]] | None = None

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = self.max_tokens
        ctx.validation_rules = ctx.validation_rules + self.rules
        ctx.context = operation_context(ctx.context)
        yield
        rewrite_errors(ctx.result, self._request_id(), getattr(ctx.context, "committed", None))

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        with contextlib.suppress(GraphQLError):
            ctx.graphql_document = _parse(ctx.query, **ctx.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.pre_execution_errors = _validate(
            _core_schema(ctx), ctx.graphql_document, ctx.validation_rules
        )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        if isinstance(ctx.context, ChronicleContext):
            ctx.context.operation_type = ctx.operation_type
        try:
            self.cost = admit(self.quotas, _core_schema(ctx), ctx.context, ctx.graphql_document,
                              ctx.operation_name, ctx.variables)
            await wait_for_requested_position(ctx.context, ctx.operation_extensions)
        except (StaleRead, InvalidInput, RateLimited, GraphQLError) as refusal:
            # A refused charge (TooCostly, QuotaExceeded) is shown as well as a made one.
            self.cost = getattr(refusal, "charge", self.cost)
            if ctx.operation_type is OperationType.SUBSCRIPTION:
                raise  # strawberry turns it into the subscription's error result
            error = (refusal if isinstance(refusal, GraphQLError)
                     else GraphQLError(str(refusal), original_error=refusal))
            ctx.result = ExecutionResult(data=None, errors=[error])
        yield

    def get_results(self) -> dict[str, Any]:
        # Asked again for every event of a subscription: the charge never changes.
        if self.cost is None:
            return {}
        if self._shown is None or self._shown[0] is not self.cost:
            self._shown = (self.cost, {"cost": self.cost.as_extension()})
        return self._shown[1]

    def _request_id(self) -> str | None:
        return getattr(self.execution_context.context, "request_id", None)


def admit(
    quotas: Quotas, schema: GraphQLSchema, context: Any, document: DocumentNode | None,
    operation_name: str | None, variables: dict[str, Any] | None,
) -> Charge:
    """Charge the operation's caller for its cost, or refuse it before it runs.

    Raises ``schema.quotas``' TooCostly (a GraphQLError) or QuotaExceeded (RateLimited).
    """
    if document is None:
        return Charge(1, quotas.max_cost)
    cost = operation_cost(schema, document, operation_name, variables,
                          list_size=quotas.list_size)
    registrations = root_field_count(document, operation_name, "register")
    caller, client = caller_of(context)
    return quotas.admit(caller, client, cost, registrations)


def caller_of(context: Any) -> tuple[str, str]:
    """Whose budget an operation spends, and the client address registrations count by."""
    # identity(): the budget's owner is bookkeeping, not part of any answer.
    actor = context.identity() if isinstance(context, RequestContext) else None
    client = getattr(context, "client", None) or "unknown"
    return caller_key(actor.user_id if actor is not None else None, client), client


def _core_schema(ctx: ExecutionContext) -> GraphQLSchema:
    return graphql_core_schema(ctx.schema)


def default_quotas(limits: Limits) -> Quotas:
    """Per-request cost only: what a schema built without an app's quotas enforces."""
    return Quotas(max_cost=limits.max_query_cost, budget=0)


def schema_extensions(limits: Limits | None = None, quotas: Quotas | None = None
                      ) -> list[Extension]:
    limits = limits or Limits()
    rules = (
        query_depth_limiter.create_validator(limits.max_query_depth, None),
        max_aliases.create_validator(limits.max_aliases),
    )
    shared = quotas or default_quotas(limits)
    return [lambda: Operation(limits.max_tokens, rules, shared)]
