"""One execution per (event, document, variables, caller) for every subscriber that shares it.

Strawberry runs a subscription's selection set once per subscriber per event
(graphql-core's per-event executor). When the subscribers of one process
receive the *same* payload object from the shared stream (``resolvers.fanout``),
the result of executing one document with the same variables over it is the
same for all of them: this executor computes it once, keeps it on the payload
(its ``shared_results``), and hands it to the others.

It plugs in where strawberry documents it (``Schema(execution_context_class=)``,
graphql-core's ``executor_class``) and changes nothing else: every operation is
still parsed, validated, limited and wrapped by the schema's extension, and
every result still goes through strawberry's result handling, error codes and
masking. Only results without errors are shared; a result with errors is
computed by each subscriber for itself.

The key: the operation node (the parser cache gives one document the same node
object, and the node is kept with the entry, so an id is never mistaken for
another), the coerced variables, and the caller (user and role) unless the
payload declares its fields blind to the caller (``caller_blind``), as the log's
events are: their redaction is already in the payload.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast

import orjson
from graphql import ExecutionResult, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

Execute = Callable[[], Any]

SHARED_RESULTS = "shared_results"
"""The attribute of a payload that may be shared: a dict this executor fills."""


def _caller(context: Any) -> tuple[str, str] | None:
    actor = getattr(context, "actor", None)
    return None if actor is None else (actor.user_id, actor.role)


class SharedResults(StrawberryGraphQLCoreExecutionContext):
    _variables: str | None = None
    """The coerced variables as canonical JSON, made once per subscription."""

    def _key(self, payload: Any) -> tuple[int, str, tuple[str, str] | None]:
        if self._variables is None:
            # repr for what JSON cannot hold: equal values print alike, so they still share.
            # Decoded: kept as long as the subscription, and orjson's own output
            # holds a 4 KiB buffer however short the text.
            self._variables = orjson.dumps(self.variable_values.coerced,
                                           option=orjson.OPT_SORT_KEYS, default=repr).decode()
        caller = None if getattr(payload, "caller_blind", False) else _caller(self.context_value)
        return id(self.operation), self._variables, caller

    def build_per_event_executor(self, payload: Any) -> Any:
        # graphql-core copies the executor for every event; a result another
        # subscriber computed already needs no copy, only handing over.
        results = getattr(payload, SHARED_RESULTS, None)
        if isinstance(results, dict) and self.operation.operation is OperationType.SUBSCRIPTION:
            entry = results.get(self._key(payload))
            if entry is not None and entry[0] is self.operation and isinstance(
                entry[1], ExecutionResult
            ):
                return _Computed(entry[1])
        executor = super().build_per_event_executor(payload)
        if isinstance(executor, SharedResults):
            executor._variables = self._variables  # the copy's key needs no new encoding
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        results = getattr(payload, SHARED_RESULTS, None)
        if not isinstance(results, dict) or self.operation.operation is not (
            OperationType.SUBSCRIPTION
        ):
            return super().execute_operation(serially)
        key = self._key(payload)
        entry = results.get(key)
        if entry is not None and entry[0] is self.operation:
            return _shared(entry[1], lambda: super(SharedResults, self).execute_operation(serially))
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult):
            if not result.errors:
                results[key] = (self.operation, result)
            return result
        # Resolvers awaited: one task computes it for everybody who asks meanwhile.
        pending: asyncio.Future[ExecutionResult] = asyncio.ensure_future(
            cast(Awaitable[ExecutionResult], result)
        )
        results[key] = (self.operation, pending)
        pending.add_done_callback(lambda done: _forget_failed(results, key, done))
        return _await_shielded(pending, None)


class _Computed:
    """Stands in for a per-event executor whose result is already known."""

    __slots__ = ("result",)

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self.result


def _forget_failed(results: dict[Any, Any], key: Any, done: asyncio.Future[Any]) -> None:
    """A result with errors (or none at all) is not shared: the next asker executes anew."""
    if done.cancelled() or done.exception() is not None or done.result().errors:
        results.pop(key, None)


def _shared(found: ExecutionResult | asyncio.Future[ExecutionResult], again: Execute) -> Any:
    if isinstance(found, ExecutionResult):
        return found
    return _await_shielded(found, again)


async def _await_shielded(
    found: asyncio.Future[ExecutionResult], again: Execute | None
) -> ExecutionResult:
    # Shielded: one subscriber leaving must not cancel the others' execution.
    result = await asyncio.shield(found)
    if result.errors and again is not None:
        # Errors are never shared: this subscriber's own execution reports its own.
        mine = again()
        return cast(ExecutionResult, await mine if isinstance(mine, Awaitable) else mine)
    return result


def shareable(payload: Any, *, caller_blind: bool = False) -> Any:
    """Mark ``payload`` (a strawberry object every sharing subscriber receives as is)."""
    setattr(payload, SHARED_RESULTS, {})
    if caller_blind:
        payload.caller_blind = True
    return payload


K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[K, V]):
    """What was made of each of the last ``size`` objects seen, by identity.

    The object that every sharing subscriber receives (a shared result's data, a
    row an applied change read once) is recognised by ``id``; it is held with what
    was made of it, so its id is never another's while the entry lives. An object
    seen by one subscriber alone just passes through.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._made: OrderedDict[int, tuple[K, V]] = OrderedDict()

    def get(self, key: K, make: Callable[[K], V]) -> V:
        found = self._made.get(id(key))
        if found is None or found[0] is not key:
            found = self._made[id(key)] = (key, make(key))
            if len(self._made) > self._size:
                self._made.popitem(last=False)
        return found[1]
