"""Parsed documents and passed validations, kept per process for the query texts it keeps seeing.

Clients send the same few documents over and over (a front-end's inventory query, a gateway's ingest), and
parsing plus graphql-core's validation rules cost more CPU than executing a small one. A document parsed
from the same text with the same options is the same tree (execution never changes it), and a document that
passed the same rules on the same schema passes again, so both are kept. Only successes are kept: a refused
document is parsed or validated again and answered exactly as the first time. The limits that depend on
variables (`first: $n` in the cost) are measured on every request, outside this cache.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse

MAX_ENTRIES = 500
MAX_QUERY_CHARS = 20_000
"""Longer documents are rare and would make the cache large; they are parsed and validated every time."""

_documents: dict[Hashable, DocumentNode] = {}
_valid: set[Hashable] = set()


def _bounded(store: dict[Hashable, Any] | set[Hashable]) -> None:
    if len(store) >= MAX_ENTRIES:  # documents in use are few; a flood of distinct ones just starts afresh
        store.clear()


def parsed(query: str, **options: Any) -> DocumentNode:
    if len(query) > MAX_QUERY_CHARS:
        return parse(query, **options)
    key = (query, tuple(sorted(options.items())))
    document = _documents.get(key)
    if document is None:
        document = parse(query, **options)
        _bounded(_documents)
        _documents[key] = document
    return document


def validated(
    schema: GraphQLSchema,
    query: str | None,
    document: DocumentNode,
    rules: tuple[Any, ...],
    validate: Callable[[GraphQLSchema, DocumentNode, tuple[Any, ...]], list[GraphQLError]],
) -> list[GraphQLError]:
    """`validate(schema, document, rules)`, skipped for a text that already passed these rules."""
    key = None if query is None or len(query) > MAX_QUERY_CHARS else (id(schema), query, rules)
    if key is not None and key in _valid:
        return []
    errors = validate(schema, document, rules)
    if key is not None and not errors:
        _bounded(_valid)
        _valid.add(key)
    return errors
