"""Per-object work that strawberry does for every field of every object, done once per field of the schema.

Strawberry calls a field's resolver through a generic wrapper: it builds an `Info`, converts the arguments,
inspects which reserved parameters the resolver asks for and chains the field extensions, for every object of
a response. For the fields below the answer does not depend on any of that, so after the schema is built
their graphql-core resolver is replaced by a direct call (the SDL, and so the schema, is unchanged):

- `id` of every loaded node: the same base64 of `<TypeName>:<id>` that `relay.Node` encodes, without the
  resolver, `resolve_id`, `resolve_typename` and a `GlobalID` per object;
- fields resolved by a plain `def (self, info)` method without arguments or field extensions (the relations:
  `Device.collector`, `Site.mainCollector`, ...): the method called with an `Info` of the same class;
- attribute fields (no resolver, no extensions): the attribute read at once, where strawberry passes through
  two wrappers per object and field;
- enum values: their name found in a dict, where strawberry compares the value with every member's in turn.

Fields with arguments, async resolvers and fields with extensions (permissions) keep strawberry's path.
The direct relations are also the ones `resolvers.prefetch` loads for a whole level at once.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, cast

import strawberry
from graphql import GraphQLField, GraphQLObjectType
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from resolvers.prefetch import DIRECT
from resolvers.types.node import LoadedNode


def _global_id(type_name: str) -> Callable[[Any, Any], str]:
    prefix = f"{type_name}:"

    def resolve(root: Any, _info: Any) -> str:
        return base64.b64encode(f"{prefix}{root.id}".encode()).decode()

    return resolve


def _direct(field: StrawberryField, info_class: type, info_name: str) -> Callable[[Any, Any], Any]:
    assert field.base_resolver is not None
    method = cast(Callable[..., Any], field.base_resolver.wrapped_func)

    def resolve(root: Any, info: Any) -> Any:
        return method(root, **{info_name: info_class(_raw_info=info, _field=field)})

    setattr(resolve, DIRECT, True)
    return resolve


def _attribute(name: str) -> Callable[[Any, Any], Any]:
    def resolve(root: Any, _info: Any) -> Any:
        return getattr(root, name)

    return resolve


def _enum_names(graphql_type: CustomGraphQLEnumType) -> Callable[[Any], Any]:
    """The enum's `coerce_output_value` with a member's name looked up, not searched for: the same names."""
    wrapped, general = graphql_type.wrapped_cls, graphql_type.coerce_output_value
    names: dict[Any, str] = {}
    for name, value in graphql_type.values.items():
        names.setdefault(wrapped(value.value), name)

    def coerce_output_value(output_value: Any) -> Any:
        found = names.get(output_value) if isinstance(output_value, wrapped) else None
        return general(output_value) if found is None else found

    return coerce_output_value


def _plain_method(field: StrawberryField) -> str | None:
    """The name of the `info` parameter when `field` is a plain `def (self, info)` without arguments."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.arguments or resolver.is_async:
        return None
    if resolver.self_parameter is None or resolver.root_parameter or resolver.parent_parameter:
        return None
    info = resolver.info_parameter
    if info is None or len(resolver.signature.parameters) != 2:
        return None
    return info.name


def _strawberry_field(field: GraphQLField) -> StrawberryField | None:
    found = (field.extensions or {}).get("strawberry-definition")
    return found if isinstance(found, StrawberryField) else None


def install(schema: strawberry.Schema) -> None:
    info_class = schema.config.info_class
    attribute_reads = schema.config.default_resolver is getattr
    for name, graphql_type in schema._schema.type_map.items():
        if isinstance(graphql_type, CustomGraphQLEnumType):
            graphql_type.coerce_output_value = _enum_names(graphql_type)  # type: ignore[method-assign,assignment]
        if not isinstance(graphql_type, GraphQLObjectType) or name.startswith("__"):
            continue
        definition = schema.get_type_by_name(name)
        origin = definition.origin if isinstance(definition, StrawberryObjectDefinition) else None
        for field_name, field in graphql_type.fields.items():
            if field_name == "id" and isinstance(origin, type) and issubclass(origin, LoadedNode):
                field.resolve = _global_id(name)
                continue
            strawberry_field = _strawberry_field(field)
            info_name = None if strawberry_field is None else _plain_method(strawberry_field)
            if strawberry_field is not None and info_name is not None:
                field.resolve = _direct(strawberry_field, info_class, info_name)
            elif strawberry_field is not None and attribute_reads and getattr(field.resolve, "_is_default", False):
                # strawberry's own mark of a field it reads as an attribute (no resolver, extension or handler)
                field.resolve = _attribute(strawberry_field.python_name)
