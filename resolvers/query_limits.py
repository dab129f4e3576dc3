"""Limits a query must meet before it is validated or run: tokens, aliases, depth, cost and overlaps.

Tokens are counted by the parser itself (it stops at the limit). Aliases, depth and cost come from one walk
of the parsed document in which every fragment is measured once and remembered, so fragments that spread
each other twice at every level cost the walk one visit per fragment, not one per path (a depth limiter
that follows every spread walks 2^n paths for n such levels). The walk happens before graphql-core's own
validation rules, which are therefore only ever run on documents of bounded size and shape.

Cost, in the manner of Saleor: a field costs 1 plus its selection's cost times its multiplier. A connection
field's multiplier is its page size (`first`, else the default page size); a plain list of objects counts as
a full default page; `nodes` and `edges` inside a connection are already paid for by the connection.
Introspection fields cost nothing (their size is the schema's), but count for depth.

Overlaps bound the one graphql-core rule that is not linear: fields with the same response name in one
selection set are compared pairwise, and so are their selections below them (120 repeats of `viewer { role }`,
some 2 KB, take ~0.6 s to validate). A name repeated n times costs n^2 times (1 + what lies below it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from app.errors import ErrorCode
from app.settings import Settings, get_settings
from resolvers import document_cache, offload
from resolvers.request_errors import GlobalIdLiterals, tag, tag_validation

_SATURATED = 2**62
"""Costs stop growing here: far above any limit, and still a 64-bit integer in JSON."""

_CONNECTION_LISTS = frozenset({"nodes", "edges"})
_TOO_LONG = "Document contains more than"


@dataclass(frozen=True)
class QueryLimits:
    max_tokens: int
    max_aliases: int
    max_depth: int
    max_cost: int
    max_overlaps: int
    default_page_size: int
    max_page_size: int

    @classmethod
    def of(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_tokens=settings.max_query_tokens,
            max_aliases=settings.max_query_aliases,
            max_depth=settings.max_query_depth,
            max_cost=settings.max_query_cost,
            max_overlaps=settings.max_query_overlaps,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
        )


@dataclass(frozen=True)
class Figures:
    """What one selection set amounts to once every fragment is expanded."""

    depth: int
    cost: int


@dataclass(frozen=True)
class Measured:
    aliases: int
    depth: int
    cost: int
    overlaps: int
    """The work of graphql-core's overlapping-fields rule on the operation (see `_Walk.overlap`)."""


def _add(a: int, b: int) -> int:
    return min(a + b, _SATURATED)


def _times(a: int, b: int) -> int:
    return min(a * b, _SATURATED)


class _Walk:
    """One measurement of one operation; fragment figures are remembered across the operation's spreads."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any], limits: QueryLimits
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.limits = limits
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[str, Figures] = {}
        self.open: set[str] = set()
        self.summary_memo: dict[str, dict[str, tuple[int, int]]] = {}
        self.summary_open: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode | None, parent: Any) -> Figures:
        depth, cost = 0, 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                figures = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                figures = self.selection_set(
                    selection.selection_set, self.schema.get_type(condition.name.value) if condition else parent
                )
            elif isinstance(selection, FragmentSpreadNode):
                figures = self.fragment(selection.name.value)
            else:
                continue
            depth, cost = max(depth, figures.depth), _add(cost, figures.cost)
        return Figures(depth, cost)

    def summary(self, selection_set: SelectionSetNode) -> dict[str, tuple[int, int]]:
        """Per response name of one selection set, fragments expanded: how often it occurs, and the largest
        overlap weight among those fields' own selections."""
        merged: dict[str, tuple[int, int]] = {}

        def add(name: str, count: int, weight: int) -> None:
            old_count, old_weight = merged.get(name, (0, 0))
            merged[name] = (_add(old_count, count), max(old_weight, weight))

        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.overlap(selection.selection_set) if selection.selection_set else 0
                add((selection.alias or selection.name).value, 1, inner)
            elif isinstance(selection, InlineFragmentNode):
                for name, (count, weight) in self.summary(selection.selection_set).items():
                    add(name, count, weight)
            elif isinstance(selection, FragmentSpreadNode):
                for name, (count, weight) in self.fragment_summary(selection.name.value).items():
                    add(name, count, weight)
        return merged

    def overlap(self, selection_set: SelectionSetNode) -> int:
        """What graphql-core's overlapping-fields rule compares: same-named fields pairwise, and their
        selections pairwise below them, so repeats multiply down the tree: sum of count^2 x (1 + below)."""
        return sum(
            (_times(_times(count, count), _add(1, weight)) for count, weight in self.summary(selection_set).values()),
            start=0,
        )

    def fragment_summary(self, name: str) -> dict[str, tuple[int, int]]:
        if name in self.summary_memo:
            return self.summary_memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.summary_open:
            return {}
        self.summary_open.add(name)
        self.summary_memo[name] = self.summary(definition.selection_set)
        self.summary_open.discard(name)
        return self.summary_memo[name]

    def fragment(self, name: str) -> Figures:
        """Measured once; unknown and cyclic spreads count nothing here (validation refuses them)."""
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return Figures(0, 0)
        self.open.add(name)
        figures = self.selection_set(
            definition.selection_set, self.schema.get_type(definition.type_condition.name.value)
        )
        self.open.discard(name)
        self.memo[name] = figures
        return figures

    def field(self, node: FieldNode, parent: Any) -> Figures:
        name = node.name.value
        definition = parent.fields.get(name) if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else None
        child_type = get_named_type(definition.type) if definition is not None else None
        inner = self.selection_set(node.selection_set, child_type)
        if name.startswith("__"):
            return Figures(inner.depth + 1, 0)
        multiplier = self.multiplier(node, definition, parent) if node.selection_set else 1
        return Figures(inner.depth + 1, _add(1, _times(multiplier, inner.cost)))

    def multiplier(self, node: FieldNode, definition: Any, parent: Any) -> int:
        if definition is None:
            return 1
        if "first" in definition.args:
            return self.page_size(node)
        if is_list_type(get_nullable_type(definition.type)):
            is_connection = isinstance(parent, GraphQLObjectType) and "pageInfo" in parent.fields
            return 1 if is_connection and node.name.value in _CONNECTION_LISTS else self.limits.default_page_size
        return 1

    def page_size(self, node: FieldNode) -> int:
        value: Any = None
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = argument.value.value
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
        try:
            size = self.limits.default_page_size if value is None else int(value)
        except (TypeError, ValueError):
            size = self.limits.default_page_size
        return min(max(size, 0), self.limits.max_page_size)


def _aliases(document: DocumentNode) -> int:
    """Aliases written in the document (each fragment once): the number a client typed, not a product."""

    def walk(selection_set: SelectionSetNode | None) -> Iterator[int]:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode) and selection.alias is not None:
                yield 1
            yield from walk(getattr(selection, "selection_set", None))

    return sum(sum(walk(d.selection_set)) for d in document.definitions if hasattr(d, "selection_set"))


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    limits: QueryLimits,
    operation_name: str | None = None,
) -> Measured:
    """Aliases, depth and cost of the operation that would run (every operation when none is named)."""
    walk = _Walk(schema, document, variables or {}, limits)
    depth, cost, overlaps = 0, 0, 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (definition.name is None or definition.name.value != operation_name):
            continue
        root = schema.get_root_type(definition.operation)
        figures = walk.selection_set(definition.selection_set, root)
        depth, cost = max(depth, figures.depth), max(cost, figures.cost)
        overlaps = max(overlaps, walk.overlap(definition.selection_set))
    return Measured(aliases=_aliases(document), depth=depth, cost=cost, overlaps=overlaps)


def limit_error(limit: str, maximum: int, actual: int, message: str) -> GraphQLError:
    return GraphQLError(
        message,
        extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "limit": limit, "maximum": maximum, "actual": actual},
    )


def refusals(measured: Measured, limits: QueryLimits) -> list[GraphQLError]:
    """Depth counts the selection sets below the root field (`{ a { b } }` has depth 1), as before."""
    errors = []
    if measured.aliases > limits.max_aliases:
        errors.append(
            limit_error(
                "aliases",
                limits.max_aliases,
                measured.aliases,
                f"the query has {measured.aliases} aliases; at most {limits.max_aliases} are allowed",
            )
        )
    depth = max(measured.depth - 1, 0)
    if depth > limits.max_depth:
        errors.append(
            limit_error(
                "depth",
                limits.max_depth,
                depth,
                f"the query is {depth} levels deep; at most {limits.max_depth} allowed",
            )
        )
    if measured.overlaps > limits.max_overlaps:
        errors.append(
            limit_error(
                "overlaps",
                limits.max_overlaps,
                measured.overlaps,
                f"the query repeats fields so much that checking they merge costs {measured.overlaps} "
                f"(a field repeated n times in one selection set costs n^2, times what lies below it); "
                f"at most {limits.max_overlaps} is allowed",
            )
        )
    if measured.cost > limits.max_cost:
        errors.append(
            limit_error(
                "cost",
                limits.max_cost,
                measured.cost,
                f"the query costs {measured.cost} (each list field costs its page size times its selection); "
                f"at most {limits.max_cost} is allowed",
            )
        )
    return errors


def _settings(context: object) -> Settings:
    settings = getattr(context, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


class QueryLimiter(SchemaExtension):
    """Parses with the token limit, measures aliases, depth, cost and overlaps, then runs graphql-core's
    validation rules; a large document does all this in a worker thread (`resolvers.offload`), so the event
    loop keeps answering other requests; a refused document never reaches the validation rules."""

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            limits = QueryLimits.of(_settings(context.context))
            options = {
                **context.parse_options,
                "max_lexical_tokens": limits.max_tokens,
                "max_comments": limits.max_tokens,
            }
            try:
                small = offload.is_small_query(context.query)
                context.graphql_document = await offload.run(small, document_cache.parsed, context.query, **options)
            except GraphQLError as error:
                if _TOO_LONG in error.message:
                    error.extensions = {
                        "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                        "limit": "tokens",
                        "maximum": limits.max_tokens,
                    }
                raise tag(error, ErrorCode.GRAPHQL_PARSE_FAILED) from None
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            limits = QueryLimits.of(_settings(context.context))
            context.pre_execution_errors = await offload.run(
                offload.is_small_query(context.query),
                _check,
                context.schema._schema,
                context.graphql_document,
                context.variables,
                limits,
                context.operation_name,
                tuple(context.validation_rules),
                context.query,
            )
        yield


def _check(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    limits: QueryLimits,
    operation_name: str | None,
    rules: tuple[type[ASTValidationRule], ...],
    query: str | None = None,
) -> list[GraphQLError]:
    """The limits first; graphql-core's rules (strawberry's own included) only on a document within them,
    and only once per query text that passes them (`resolvers.document_cache`)."""
    errors = refusals(measure(schema, document, variables, limits, operation_name), limits)
    if errors:
        return errors
    return tag_validation(
        document_cache.validated(schema, query, document, (*rules, GlobalIdLiterals), validate_document), document
    )
