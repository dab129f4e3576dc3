"""Every error a caller can cause gets a code and names what it is about; only internal faults are masked.

Errors are tagged where they arise, where their kind is known: the parser's (GRAPHQL_PARSE_FAILED, or
QUERY_TOO_COMPLEX past the token limit), graphql-core's validation rules (GRAPHQL_VALIDATION_FAILED, or
the scalar's own code for a literal it refused), the coercion of variables (REQUIRED, INVALID_FORMAT or the
scalar's own code, with `field` the variable), and text that no field accepts (NUL and other control
characters, lone surrogates: INVALID_FORMAT, naming the argument or variable). Coercion and the text check
run before execution, in a worker thread like validation, so they never hold the event loop.

What is left untagged and did not come from a `PhasewiseError` is a fault of ours: the answer says
"Unexpected error." with code INTERNAL_ERROR and the request's id, and the fault is logged once, with its
traceback and that id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    GraphQLID,
    GraphQLSchema,
    ListValueNode,
    NamedTypeNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    ValidationRule,
    ValueNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import get_variable_values
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.relay.types import GlobalID, GlobalIDValueError
from strawberry.types import ExecutionContext

from app.errors import ErrorCode, PhasewiseError
from resolvers import offload

logger = logging.getLogger("phasewise.errors")

UNEXPECTED = "Unexpected error."

_FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0 controls but tab, newline and carriage return; DEL and C1 controls; lone surrogates (not encodable)."""


def tag(error: GraphQLError, code: ErrorCode, **more: object) -> GraphQLError:
    """Gives an error its code unless its origin already gave it a more precise one."""
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code.value, **more}
    return error


def _inner_code(error: GraphQLError) -> str | None:
    """The code of the innermost error that carries one (a scalar refusing a value says why)."""
    original: BaseException | None = error.original_error
    while original is not None:
        code = getattr(original, "extensions", None) or {}
        if isinstance(code, dict) and code.get("code"):
            return str(code["code"])
        original = getattr(original, "original_error", None)
    return None


def _arguments(document: DocumentNode) -> Iterator[tuple[str, ArgumentNode]]:
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        for argument in getattr(node, "arguments", None) or ():
            yield f"{node.name.value}({argument.name.value}:)", argument
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def _name_argument(error: GraphQLError, document: DocumentNode) -> None:
    """A literal refused inside an argument: the message and `field` say which (`sites(first:)`)."""
    node = error.nodes[0] if error.nodes else None
    if node is None or node.loc is None or isinstance(node, ArgumentNode):
        return
    for name, argument in _arguments(document):
        if argument.loc is not None and argument.loc.start <= node.loc.start and node.loc.end <= argument.loc.end:
            error.message = f"{name}: {error.message}"
            error.extensions = {**(error.extensions or {}), "field": name}
            return


def tag_validation(errors: list[GraphQLError], document: DocumentNode) -> list[GraphQLError]:
    for error in errors:
        _name_argument(error, document)
        inner = _inner_code(error)
        if inner is not None:
            tag(error, ErrorCode(inner))
        elif isinstance(error.original_error, ValueError | TypeError) or "cannot represent" in error.message:
            tag(error, ErrorCode.INVALID_FORMAT)
        else:
            tag(error, ErrorCode.GRAPHQL_VALIDATION_FAILED)
    return errors


def _variable_error(error: GraphQLError, name: str | None) -> GraphQLError:
    inner = _inner_code(error)
    if inner is not None:
        code = ErrorCode(inner)
    elif "non-null type" in error.message or "was not provided" in error.message:
        code = ErrorCode.REQUIRED
    else:
        code = ErrorCode.INVALID_FORMAT
    return tag(error, code, field=f"${name}" if name else None)


def _variable_name(error: GraphQLError) -> str | None:
    match = re.match(r"Variable '\$(\w+)'", error.message)
    return match.group(1) if match else None


def _has_forbidden_text(value: Any) -> bool:
    """One regex search over every key and string of the value: the path is only looked for when it fails (a
    100-point ingest has some 400 values; walking them with paths was most of checking it)."""
    texts: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            texts.extend(k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return _FORBIDDEN_TEXT.search("".join(texts)) is not None


def _text_errors(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if _FORBIDDEN_TEXT.search(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _text_errors(key, path)
            yield from _text_errors(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _text_errors(item, f"{path}[{i}]")


def _literal_strings(node: ValueNode, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, StringValueNode):
        yield path, node.value
    elif isinstance(node, ListValueNode):
        for i, item in enumerate(node.values):
            yield from _literal_strings(item, f"{path}[{i}]")
    elif isinstance(node, ObjectValueNode):
        for field in node.fields:
            yield from _literal_strings(field.value, f"{path}.{field.name.value}")


def _document_text_errors(document: DocumentNode) -> Iterator[str]:
    """Arguments written in the document: each string literal, named by field and argument."""
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        for argument in getattr(node, "arguments", None) or ():
            name = f"{node.name.value}({argument.name.value}:)"
            for path, text in _literal_strings(argument.value, name):
                if _FORBIDDEN_TEXT.search(text):
                    yield path
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def text_refusal(field: str) -> GraphQLError:
    return GraphQLError(
        f"{field}: text must not contain NUL or other control characters (tab, newline and carriage return "
        "are allowed) nor unpaired surrogates",
        extensions={"code": ErrorCode.INVALID_FORMAT.value, "field": field},
    )


def check_request(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    over_websocket: bool,
) -> GraphQLError | None:
    """The first thing wrong with the request's inputs, before anything runs."""
    if not isinstance(variables, dict | None):
        return GraphQLError(
            "variables must be a JSON object", extensions={"code": ErrorCode.BAD_REQUEST.value, "field": "variables"}
        )
    for path in _document_text_errors(document):
        return text_refusal(path)
    for path in _text_errors(variables, "") if variables and _has_forbidden_text(variables) else ():
        return text_refusal(f"${path.lstrip('.')}")
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return None  # graphql-core names the problem itself
    if operation.operation == OperationType.SUBSCRIPTION and not over_websocket:
        return GraphQLError(
            "subscriptions are served over a websocket (graphql-transport-ws) at /graphql, not over HTTP",
            extensions={"code": ErrorCode.BAD_REQUEST.value},
        )
    definitions = operation.variable_definitions or ()
    result = get_variable_values(schema, definitions, variables or {}, max_errors=50)
    if isinstance(result, list):
        first = result[0]
        return _variable_error(first, _variable_name(first))
    return _global_id_error(definitions, variables or {})


def _global_id_error(definitions: Any, variables: dict[str, Any]) -> GraphQLError | None:
    """Every variable of type ID must hold a global id this API returned (they are decoded later, in the
    resolvers, where a failure would be a fault of ours)."""
    for definition in definitions:
        if _named_type(definition.type) != "ID":
            continue
        name = definition.variable.name.value
        value = variables.get(name)
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, str) and not _decodes(item):
                where = f"${name}" if not isinstance(value, list) else f"${name}[{i}]"
                return GraphQLError(
                    f"{where}: {item!r} is not a global id this API returned",
                    extensions={"code": ErrorCode.INVALID_FORMAT.value, "field": where},
                )
    return None


def _named_type(node: Any) -> str | None:
    while not isinstance(node, NamedTypeNode):
        node = getattr(node, "type", None)
        if node is None:
            return None
    return node.name.value


def _decodes(value: str) -> bool:
    try:
        GlobalID.from_id(value)
    except GlobalIDValueError:
        return False
    return True


class GlobalIdLiterals(ValidationRule):
    """ID literals in the document must be global ids this API returned, named by field and argument."""

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        argument = self.context.get_argument()
        field = self.context.get_field_def()
        if argument is None or get_named_type(argument.type) is not GraphQLID:
            return
        parent = self.context.get_parent_type()
        field_name = next((n for n, f in (getattr(parent, "fields", None) or {}).items() if f is field), "?")
        values = node.value.values if isinstance(node.value, ListValueNode) else [node.value]
        for value in values:
            if isinstance(value, StringValueNode) and not _decodes(value.value):
                where = f"{field_name}({node.name.value}:)"
                self.report_error(
                    GraphQLError(
                        f"{where}: {value.value!r} is not a global id this API returned",
                        value,
                        extensions={"code": ErrorCode.INVALID_FORMAT.value, "field": where},
                    )
                )


class InputChecks(SchemaExtension):
    """Variables coerced and every text checked before execution, off the event loop."""

    async def on_execute(self) -> AsyncIterator[None]:
        context: ExecutionContext = self.execution_context
        if context.graphql_document is not None:
            schema, document = context.schema._schema, context.graphql_document
            over_websocket = getattr(context.context, "websocket", None) is not None
            small = offload.is_small_query(context.query) and offload.is_small_input(context.variables)
            error = await offload.run(
                small, check_request, schema, document, context.variables, context.operation_name, over_websocket
            )
            if error is not None:
                raise error
        yield


def _request_id(context: object) -> str | None:
    return getattr(context, "request_id", None)


def client_code(error: GraphQLError) -> str | None:
    """The code of an error the caller caused; `None` for an internal fault."""
    code = (error.extensions or {}).get("code")
    original = error.original_error
    if original is None or isinstance(original, PhasewiseError):
        return str(code) if code else ErrorCode.GRAPHQL_VALIDATION_FAILED.value
    if isinstance(original, GlobalIDValueError):
        return ErrorCode.INVALID_FORMAT.value
    if isinstance(original, GraphQLError) or code:
        return str(code) if code else ErrorCode.GRAPHQL_VALIDATION_FAILED.value
    return None


class ErrorPolicy(MaskErrors):
    """Client errors keep their message and gain a code; internal faults are masked and logged once."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        request_id = _request_id(self.execution_context.context)
        answered = []
        for error in errors:
            code = client_code(error)
            if code is not None:
                answered.append(tag(error, ErrorCode(code)))
                continue
            logger.error(
                "internal fault (request %s) at %s: %s",
                request_id,
                error.path,
                error.message,
                exc_info=error.original_error,
            )
            masked = self.anonymise_error(error)
            masked.extensions = {"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id}
            answered.append(masked)
        return answered


class QuietSchema(strawberry.Schema):
    """Logs nothing per error: client errors are answered, not logged; `ErrorPolicy` logs internal faults."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None
