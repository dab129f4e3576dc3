"""Pleevi's site-configuration document (`collector_list`, `device_list`) as a validated model.

`parse_site_configuration` is the door: it accepts the document as clients write it (children given
by name or as nested collector objects), reports every issue it finds in the document's own terms,
and returns a `SiteConfiguration` whose collector tree is flat, linked (each collector knows its
parent) and consistent. `to_document()` writes the canonical form back: flat, children by name,
every default spelled out, `ucl` as `load`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from pydantic import Field, ValidationError, model_validator

from app.domain.collectors import Collector
from app.domain.common import DomainModel
from app.domain.devices import Device
from app.domain.pydantic_issues import format_path, issues_from_validation_error
from app.domain.topology import validate_topology
from app.errors import Issue, ValidationFailed


class SiteConfiguration(DomainModel):
    """A site's collector tree and devices. Build it with `parse_site_configuration` (or in code, then
    check it with `validate_topology`)."""

    collector_list: list[Collector]
    device_list: list[Device] = Field(default_factory=list)

    @model_validator(mode="after")
    def _link_parents(self) -> Self:
        """Give each collector its parent's name; the first parent listing it wins (topology reports
        any other)."""
        by_name: dict[str, Collector] = {}
        for collector in self.collector_list:
            by_name.setdefault(collector.name, collector)
        for collector in self.collector_list:
            for child_name in collector.children:
                child = by_name.get(child_name)
                if child is not None and child.parent is None:
                    child._parent = collector.name
        return self

    def collector(self, name: str) -> Collector:
        """The collector called `name` (KeyError when there is none)."""
        for collector in self.collector_list:
            if collector.name == name:
                return collector
        raise KeyError(name)

    @property
    def root(self) -> Collector:
        """The grid connection: the one collector without a parent (ValueError when the tree has none
        or several: `validate_topology` says why)."""
        roots = [collector for collector in self.collector_list if collector.parent is None]
        if len(roots) != 1:
            raise ValueError(f"the collector tree has {len(roots)} roots instead of one")
        return roots[0]

    def children_of(self, name: str) -> list[Collector]:
        return [self.collector(child) for child in self.collector(name).children]

    def devices_on(self, collector_name: str) -> list[Device]:
        return [device for device in self.device_list if device.collector == collector_name]

    def to_document(self) -> dict[str, object]:
        """The canonical JSON-ready document: `parse_site_configuration(c.to_document()) == c`."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


@dataclass(frozen=True)
class _FlatDocument:
    """The document with nested collectors lifted into `collector_list` (right after their parent,
    depth first), and where each flat collector came from, to point issues back at it."""

    data: object
    origins: tuple[str, ...] = ()

    def path(self, flat_path: str | None) -> str | None:
        """`collector_list[5].phase` -> `collector_list[0].children[1].phase` for a lifted collector."""
        match = re.match(r"collector_list\[(\d+)\]", flat_path or "")
        if match is None or int(match[1]) >= len(self.origins):
            return flat_path
        return self.origins[int(match[1])] + (flat_path or "")[match.end() :]

    def is_nested_reference(self, path: str | None) -> bool:
        """A lifted collector's own place in its parent's `children`: a problem with its name is
        reported on the collector itself, so not twice."""
        return path is not None and path.endswith("]") and ".children[" in path and path in self.origins


def _flatten(document: object) -> _FlatDocument:
    """Lift nested collector objects out of `children`, leaving their names behind.

    Anything unexpected (a document that is not an object, children that are not a list) is left as
    it is, for validation to report."""
    if not isinstance(document, dict) or not isinstance(document.get("collector_list"), list):
        return _FlatDocument(document)
    items: list[object] = []
    origins: list[str] = []

    def lift(item: object, origin: str) -> None:
        nested: list[tuple[object, str]] = []
        if isinstance(item, dict) and isinstance(item.get("children"), list):
            names: list[object] = []
            for position, child in enumerate(item["children"]):
                if isinstance(child, dict):
                    names.append(child.get("name"))
                    nested.append((child, f"{origin}.children[{position}]"))
                else:
                    names.append(child)
            item = {**item, "children": names}
        items.append(item)
        origins.append(origin)
        for child, child_origin in nested:
            lift(child, child_origin)

    for index, item in enumerate(document["collector_list"]):
        lift(item, f"collector_list[{index}]")
    return _FlatDocument({**document, "collector_list": items}, tuple(origins))


def parse_site_configuration(document: object) -> SiteConfiguration:
    """The validated configuration, or `ValidationFailed` with every issue found.

    Field rules are checked first (all of them, across the whole document); the tree and reference
    rules only once the fields are sound, since they need names and phases they can trust."""
    flat = _flatten(document)
    try:
        config = SiteConfiguration.model_validate(flat.data)
    except ValidationError as error:
        issues = [
            issue
            for issue in issues_from_validation_error(error, flat.data, lambda loc: flat.path(format_path(loc)))
            if not flat.is_nested_reference(issue.field)
        ]
        raise ValidationFailed(issues) from None
    topology_issues = validate_topology(config)
    if topology_issues:
        raise ValidationFailed([_repoint(issue, flat) for issue in topology_issues])
    return config


def _repoint(issue: Issue, flat: _FlatDocument) -> Issue:
    return Issue(issue.code, flat.path(issue.field), issue.message)
