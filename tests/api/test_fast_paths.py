"""The schema's direct resolvers (resolvers.fast_paths) answer exactly what strawberry's own path answers."""

from __future__ import annotations

from types import SimpleNamespace

from graphql import GraphQLObjectType
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.field import StrawberryField

from resolvers.schema import schema


def _enums() -> list[CustomGraphQLEnumType]:
    return [t for t in schema._schema.type_map.values() if isinstance(t, CustomGraphQLEnumType)]


def test_every_enum_member_is_named_as_strawberry_names_it() -> None:
    enums = _enums()
    assert len(enums) > 5
    for enum in enums:
        members: list[object] = list(enum.wrapped_cls)
        for member in members:
            assert enum.coerce_output_value(member) == CustomGraphQLEnumType.coerce_output_value(enum, member)
        assert "coerce_output_value" in vars(enum), f"{enum.name} still searches its members"


def test_an_enum_value_that_is_not_a_member_takes_strawberry_s_own_path() -> None:
    """A resolver may hand back a member's plain value; strawberry's coercion names it, as before."""
    for enum in _enums():
        for name, value in enum.values.items():
            assert enum.coerce_output_value(value.value) == name


def test_every_attribute_field_reads_the_attribute_directly() -> None:
    """No field strawberry reads as a plain attribute still goes through its two wrappers, and each read is
    the attribute of the field's Python name (which differs from the GraphQL name in case)."""
    read = 0
    for name, graphql_type in schema._schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or name.startswith("__"):
            continue
        for field_name, field in graphql_type.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
                continue
            resolve = field.resolve
            assert resolve is not None and not getattr(resolve, "_is_default", False), (name, field_name)
            root = SimpleNamespace(**{definition.python_name: object()})
            if field_name != "id":
                assert resolve(root, None) is getattr(root, definition.python_name)
                read += 1
    assert read > 100
