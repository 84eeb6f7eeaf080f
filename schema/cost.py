"""What an operation may cost, decided from its document and variables before it runs.

Depth, alias and token limits bound the size of a document, not of its
answer: ``posts(first: 100)`` nesting ``author { posts(first: 100) }`` stays
within all three and still asks for 10 100 posts. The cost counts what the
answer may hold, the way GitHub's GraphQL API counts nodes:

- every operation costs 1;
- a connection (a field with a ``first`` or ``last`` argument) may return as
  many items as that argument asks for (its variable's value, else the
  argument's default), and so multiplies what is selected inside its page;
- any other list of objects may hold ``list_size`` items (the page size cap),
  except the introspection lists, which hold at most what this schema has;
- each item of a list is one node; the cost is 1 + the nodes of every list.

The count is an upper bound: fields under ``@skip``/``@include`` and fields
that merge into one response key are all counted. It grows linearly with the
enclosing multipliers, so every fragment is walked once per place it is used
and the walk stays linear in the document's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    Undefined,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_abstract_type,
    is_introspection_type,
    value_from_ast,
)
from graphql.execution import get_variable_values

PAGE_ARGUMENTS = ("first", "last")


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    list_size: int = 100,
) -> int:
    """1 + the nodes the answer to ``operation_name`` may hold (see the module's doc)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 1  # the executor refuses it without running anything
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 1
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    # Variables that do not coerce stop execution before any field runs.
    values = {} if isinstance(coerced, list) else coerced.coerced
    return 1 + _Walk(schema, document, values, list_size).nodes(root, operation.selection_set)


def root_field_count(document: DocumentNode, operation_name: str | None, name: str) -> int:
    """How many times the operation's root selects the field ``name`` (aliases included)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    return _count_fields(operation.selection_set, _fragments(document), name, set())


def _count_fields(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode],
    name: str, seen: set[str],
) -> int:
    count = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            count += selection.name.value == name
        elif isinstance(selection, InlineFragmentNode):
            count += _count_fields(selection.selection_set, fragments, name, seen)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and fragment.name.value not in seen:
                count += _count_fields(
                    fragment.selection_set, fragments, name, seen | {fragment.name.value}
                )
    return count


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }


class _Walk:
    """One cost computation: nodes per selection set at a multiplier of 1, memoized per
    fragment use (the cost of a selection set is linear in its multiplier)."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any],
        list_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = _fragments(document)
        self.variables = variables
        self.list_size = list_size
        self.memo: dict[tuple[str, str, int | None], int] = {}
        self.walking: set[str] = set()
        self.introspection: dict[tuple[str, str], int] | None = None

    def nodes(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode, page: int | None = None
    ) -> int:
        """Nodes below one ``parent``; ``page`` sizes the lists directly inside a connection."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.nodes(inner or parent, selection.selection_set, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(parent, selection.name.value, page)
        return total

    def spread(self, parent: GraphQLNamedType, name: str, page: int | None) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.walking:
            return 0  # validation refuses unknown and cyclic fragments before this runs
        key = (name, parent.name, page)
        if key not in self.memo:
            inner = self.schema.get_type(fragment.type_condition.name.value) or parent
            self.walking.add(name)
            self.memo[key] = self.nodes(inner, fragment.selection_set, page)
            self.walking.discard(name)
        return self.memo[key]

    def field(self, parent: GraphQLNamedType, node: FieldNode, page: int | None) -> int:
        definition = self.definition(parent, node.name.value)
        if definition is None or node.selection_set is None:
            return 0  # leaves (scalar lists included) and __typename add no nodes
        named = get_named_type(definition.type)
        inner_page = self.page_size(definition, node)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            items = page if page is not None else self.items(parent, node.name.value)
            return items + items * self.nodes(named, node.selection_set, inner_page)
        return self.nodes(named, node.selection_set, inner_page)

    def definition(self, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        if name == "__schema":
            return SchemaMetaFieldDef
        if name == "__type":
            return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def page_size(self, definition: GraphQLField, node: FieldNode) -> int | None:
        """The page a connection field asks for, or None for any other field."""
        for name in PAGE_ARGUMENTS:
            argument = definition.args.get(name)
            if argument is None:
                continue
            given = next((a.value for a in node.arguments or () if a.name.value == name), None)
            value: Any = Undefined
            if given is not None:
                value = value_from_ast(given, argument.type, self.variables)
            if value is Undefined or value is None:
                value = argument.default_value  # null asks for the default page too
            if isinstance(value, int):
                return max(0, value)
        return None

    def items(self, parent: GraphQLNamedType, name: str) -> int:
        if is_introspection_type(parent):
            if self.introspection is None:
                self.introspection = _introspection_sizes(self.schema)
            return self.introspection.get((parent.name, name), self.list_size)
        return self.list_size


def _introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    """How long each introspection list of this schema is on average (rounded up).

    Averages, not maxima: a query listing every type's fields then costs what
    its answer really holds (types x fields per type = all fields), so
    GraphiQL's introspection query passes, while introspection nested to
    multiply itself still multiplies its cost.
    """
    types = list(schema.type_map.values())
    with_fields = [t for t in types if hasattr(t, "fields")]
    fields = [f for t in with_fields for f in t.fields.values()]
    output = [t for t in with_fields if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    inputs = [t for t in with_fields if t not in output]
    enums = [t for t in types if hasattr(t, "values")]
    abstract = [t for t in types if is_abstract_type(t)]

    def average(counts: list[int]) -> int:
        return -(-sum(counts) // len(counts)) if counts else 0

    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(schema.directives),
        ("__Type", "fields"): average([len(t.fields) for t in output]),
        ("__Type", "inputFields"): average([len(t.fields) for t in inputs]),
        ("__Type", "interfaces"): average([len(getattr(t, "interfaces", ())) for t in output]),
        ("__Type", "possibleTypes"): average([len(schema.get_possible_types(t)) for t in abstract]),
        ("__Type", "enumValues"): average([len(getattr(t, "values", ())) for t in enums]),
        ("__Field", "args"): average([len(getattr(f, "args", ())) for f in fields]),
        ("__Directive", "args"): average([len(d.args) for d in schema.directives]),
    }
