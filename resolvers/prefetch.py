"""A level's relations loaded once for the whole level, before its objects are resolved one by one.

When a connection's page arrives, the query's selection says which fields of its nodes will be resolved.
For each selected field that `resolvers.fast_paths` resolves directly (a plain relation such as
`Device.collector`), the field's resolver is called here for every node of the page: that asks its loader
for every key of the level at once (one batch, so one SQL statement per level as before), and the page is
handed on only once those loads are done. Resolving the nodes afterwards then finds every relation already
loaded and answers it synchronously: no coroutine, no task and no scheduling per object.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any, Protocol, TypeVar

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
)


class _HasNodes(Protocol):
    @property
    def nodes(self) -> list[Any]: ...


ConnectionT = TypeVar("ConnectionT", bound=_HasNodes)

DIRECT = "_phasewise_direct"
"""Marks a graphql-core resolver that is a plain relation, safe to call ahead (see `resolvers.fast_paths`)."""


def _fields(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], condition: str | None = None
) -> Iterator[tuple[str | None, FieldNode]]:
    """The fields of a selection set, through fragments, each with the type condition it sits under."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield condition, selection
        elif isinstance(selection, InlineFragmentNode):
            inner = selection.type_condition.name.value if selection.type_condition else condition
            yield from _fields(selection.selection_set, fragments, inner)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            fragment = fragments[selection.name.value]
            yield from _fields(fragment.selection_set, fragments, fragment.type_condition.name.value)


def _node_fields(info: GraphQLResolveInfo) -> list[tuple[str | None, str]]:
    """(type condition, field name) selected on the nodes of the connection being resolved."""
    selected = []
    for field_node in info.field_nodes:
        for _, child in _fields(field_node.selection_set, info.fragments):
            if child.name.value == "nodes":
                selected += [(c, f.name.value) for c, f in _fields(child.selection_set, info.fragments)]
            elif child.name.value == "edges":
                for _, edge_field in _fields(child.selection_set, info.fragments):
                    if edge_field.name.value == "node":
                        selected += [(c, f.name.value) for c, f in _fields(edge_field.selection_set, info.fragments)]
    return selected


def _applies(condition: str | None, graphql_type: GraphQLObjectType) -> bool:
    if condition is None or condition == graphql_type.name:
        return True
    return any(i.name == condition for i in graphql_type.interfaces)


async def prefetch(info: Any, nodes: list[Any]) -> None:
    """Loads the selected plain relations of `nodes` (objects of one level) together; `info` is the
    connection field's (strawberry's `Info` or graphql-core's)."""
    raw: GraphQLResolveInfo = getattr(info, "_raw_info", info)
    selected = _node_fields(raw) if nodes else []
    if not selected:
        return
    pending = []
    resolvers_by_type: dict[type, list[Any]] = {}
    for node in nodes:
        resolvers = resolvers_by_type.get(type(node))
        if resolvers is None:
            definition = getattr(type(node), "__strawberry_definition__", None)
            graphql_type = raw.schema.type_map.get(definition.name) if definition is not None else None
            resolvers = resolvers_by_type[type(node)] = (
                [
                    field.resolve
                    for condition, name in dict.fromkeys(selected)
                    if _applies(condition, graphql_type)
                    and (field := graphql_type.fields.get(name)) is not None
                    and getattr(field.resolve, DIRECT, False)
                ]
                if isinstance(graphql_type, GraphQLObjectType)
                else []
            )
        for resolve in resolvers:
            try:
                result = resolve(node, raw)
            except Exception:  # raised again when the field itself is resolved, at its own path
                continue
            if inspect.isawaitable(result):
                pending.append(result)
    if pending:  # nodes sharing a related row share its awaitable: each is waited on once
        # A failed load is not raised here: resolving the field raises it again, at the field's own path.
        await asyncio.gather(*{id(p): p for p in pending}.values(), return_exceptions=True)


async def prefetched(info: Any, connection: ConnectionT) -> ConnectionT:
    """`connection`, once the selected relations of its nodes are loaded."""
    await prefetch(info, connection.nodes)
    return connection
