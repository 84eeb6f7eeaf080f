"""Compiled query plans: the read path without graphql-core's per-field machinery.

A feed of 20 posts resolves about 160 fields. graphql-core pays for each one
a resolve-info object, argument coercion, awaitable checks and a dispatch on
the return type; with strawberry's wrappers that is ~60% of a feed request's
CPU (profiled with py-spy), far more than reading the denormalised rows.
Once a query document has executed cleanly, everything those steps decide
per field is known: which resolver, whether it takes arguments, which
serializer, which sub-selection. A :class:`QueryPlan` decides it once and then
only walks the data.

The plan is an optimisation, never a second implementation of GraphQL:

- only query operations of documents that already executed through the full
  path without errors get a plan (so parsing, validation and every limit have
  passed), and only if they use object types, fields, aliases and fragments on
  those same types: no directives, abstract types or repeated response keys;
- every field still runs the schema's own resolver (strawberry's wrapper with
  its permission and field extensions), and every leaf the schema's own
  serializer, in document order;
- anything unusual while running (a resolver raising, a null in a non-null
  place, a value a serializer refuses) abandons the plan with
  :class:`Abandon`; the caller then executes the request through the full
  path, which produces the errors, codes and partial data exactly as
  specified. Queries have no side effects, so running one twice is safe.

Sibling awaitables (DataLoader loads, async resolvers) are collected level by
level and awaited together, so loaders batch just as under graphql-core.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_operation_ast,
)
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

TYPENAME = "__typename"


class Abandon(Exception):
    """The plan cannot give this request's answer; execute it the full way."""


class NotPlannable(Exception):
    """The document uses something plans do not cover."""


@dataclass(frozen=True, slots=True)
class FieldStep:
    key: str
    """The response key (alias or name)."""
    parent: GraphQLObjectType
    field: GraphQLField | None
    """None for ``__typename``."""
    nodes: list[FieldNode]
    basic: bool
    """A plain attribute (strawberry's default resolver): called without info."""
    has_args: bool
    type: GraphQLOutputType
    selection: tuple[FieldStep, ...]
    """The sub-selection of an object (or list of objects) type."""


@dataclass(frozen=True, slots=True)
class _Pending:
    awaitable: Awaitable[Any]
    step: FieldStep
    type: GraphQLOutputType
    container: Any
    key: Any
    path: Path


class _Run:
    """One execution of a plan: the request's executor (for infos and arguments)."""

    __slots__ = ("executor", "pending")

    def __init__(self, executor: Executor[Any]) -> None:
        self.executor = executor
        self.pending: list[_Pending] = []

    def fields(
        self, steps: tuple[FieldStep, ...], source: Any, path: Path | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for step in steps:
            if step.field is None:
                out[step.key] = step.parent.name
                continue
            field_path = Path(path, step.key, step.parent.name)
            resolve = step.field.resolve
            if resolve is None:
                raise Abandon  # every strawberry field has one; a bare schema field would not
            if step.basic:
                value = resolve(source, None)
            else:
                executor = self.executor
                info = executor.build_resolve_info(step.field, step.nodes, step.parent, field_path)
                args = (
                    get_argument_values(
                        step.field, step.nodes[0], executor.variable_values, None,
                        executor.hide_suggestions,
                    )
                    if step.has_args
                    else {}
                )
                value = resolve(source, info, **args)
            self.complete(step, step.type, value, out, step.key, field_path)
        return out

    def complete(
        self, step: FieldStep, type_: GraphQLOutputType, value: Any, container: Any, key: Any,
        path: Path,
    ) -> None:
        if self.executor.is_awaitable(value):
            container[key] = None  # keeps the document's key order
            self.pending.append(_Pending(value, step, type_, container, key, path))
            return
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                raise Abandon  # a non-null violation: the full path reports it
            type_ = type_.of_type
        if value is None:
            container[key] = None
        elif isinstance(type_, GraphQLList):
            if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
                raise Abandon
            sequence = value if isinstance(value, (list, tuple)) else list(value)
            items: list[Any] = [None] * len(sequence)
            item_type = type_.of_type
            for index, item in enumerate(sequence):
                self.complete(step, item_type, item, items, index, Path(path, index, None))
            container[key] = items
        elif isinstance(type_, (GraphQLScalarType, GraphQLEnumType)):
            serialized = type_.serialize(value)
            if serialized is None or serialized is Undefined:
                raise Abandon
            container[key] = serialized
        else:
            container[key] = self.fields(step.selection, value, path)

    async def settle(self) -> None:
        """Await the pending values level by level, completing each as it arrives."""
        while self.pending:
            batch, self.pending = self.pending, []
            values = await asyncio.gather(*(p.awaitable for p in batch), return_exceptions=True)
            for pending, value in zip(batch, values, strict=True):
                if isinstance(value, BaseException):
                    self.close()
                    raise Abandon from value
                self.complete(pending.step, pending.type, value, pending.container,
                              pending.key, pending.path)

    def close(self) -> None:
        """Never leave a created coroutine un-awaited (and warned about) when abandoning."""
        for pending in self.pending:
            close = getattr(pending.awaitable, "close", None)
            if close is not None:
                close()
        self.pending = []


@dataclass(frozen=True, slots=True)
class QueryPlan:
    document: DocumentNode
    operation: OperationDefinitionNode
    selection: tuple[FieldStep, ...]

    async def run(
        self, schema: GraphQLSchema, context: Any, variables: dict[str, Any] | None,
        root_value: Any = None,
    ) -> dict[str, Any]:
        """The response's ``data``; raises :class:`Abandon` when only the full path can answer."""
        executor = StrawberryGraphQLCoreExecutionContext.build(
            schema, self.document, root_value, context, variables,
            self.operation.name.value if self.operation.name else None,
            is_awaitable=cast(Any, optimized_is_awaitable), operation_extensions=None,
        )
        if isinstance(executor, list):  # variables that do not coerce
            raise Abandon
        run = _Run(executor)
        try:
            data = run.fields(self.selection, root_value, None)
            await run.settle()
        except Abandon:
            run.close()
            raise
        except Exception as error:
            run.close()
            raise Abandon from error
        return data


def plan_query(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> QueryPlan:
    """The plan of a validated document's query operation, or :class:`NotPlannable`."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        raise NotPlannable("only queries are planned")
    if operation.directives:
        raise NotPlannable("directives")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.query_type
    if root is None:
        raise NotPlannable("no query type")
    return QueryPlan(document, operation, _steps(schema, root, operation.selection_set, fragments))


def _steps(
    schema: GraphQLSchema, parent: GraphQLObjectType, selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> tuple[FieldStep, ...]:
    steps: list[FieldStep] = []
    for node in _flatten(parent, selection_set, fragments):
        key = node.alias.value if node.alias else node.name.value
        if any(s.key == key for s in steps):
            raise NotPlannable("repeated response key")  # needs field merging
        if node.name.value == TYPENAME:
            steps.append(FieldStep(key, parent, None, [node], True, False, parent, ()))
            continue
        field = parent.fields.get(node.name.value)
        if field is None:
            raise NotPlannable(f"unknown field {node.name.value}")  # introspection and the like
        named = _named(field.type)
        selection: tuple[FieldStep, ...] = ()
        if isinstance(named, GraphQLObjectType):
            if node.selection_set is None:
                raise NotPlannable("object without selection")
            selection = _steps(schema, named, node.selection_set, fragments)
        elif not isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
            raise NotPlannable("abstract types")
        basic = bool(getattr(field.resolve, "_is_default", False))
        steps.append(FieldStep(
            key, parent, field, [node], basic, bool(field.args or node.arguments),
            field.type, selection,
        ))
    return tuple(steps)


def _flatten(
    parent: GraphQLObjectType,
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> list[FieldNode]:
    """The fields of a selection set with fragments on ``parent`` itself inlined."""
    fields: list[FieldNode] = []
    for selection in selection_set.selections:
        if selection.directives:
            raise NotPlannable("directives")
        if isinstance(selection, FieldNode):
            fields.append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or fragment.directives:
                raise NotPlannable("fragment")
            condition: NamedTypeNode | None = fragment.type_condition
            inner = fragment.selection_set
        elif isinstance(selection, InlineFragmentNode):
            condition, inner = selection.type_condition, selection.selection_set
        else:
            raise NotPlannable("unknown selection")
        if condition is not None and condition.name.value != parent.name:
            raise NotPlannable("fragment on another type")
        fields.extend(_flatten(parent, inner, fragments))
    return fields


def _named(type_: GraphQLOutputType) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


class Plans:
    """A bounded cache of plans by (query text, operation name), with what cannot be planned."""

    def __init__(self, schema: GraphQLSchema, size: int = 256) -> None:
        self.schema = schema
        self.size = size
        self._plans: OrderedDict[tuple[str, str | None], QueryPlan | None] = OrderedDict()

    def get(self, query: str, operation_name: str | None) -> QueryPlan | None:
        key = (query, operation_name)
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
        return plan

    def known(self, query: str, operation_name: str | None) -> bool:
        return (query, operation_name) in self._plans

    def learn(self, query: str, operation_name: str | None, document: DocumentNode) -> None:
        """Remember a document that just executed cleanly (or that it cannot be planned)."""
        try:
            plan: QueryPlan | None = plan_query(self.schema, document, operation_name)
        except (NotPlannable, GraphQLError):
            plan = None
        self._plans[(query, operation_name)] = plan
        self._plans.move_to_end((query, operation_name))
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)
