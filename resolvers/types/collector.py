from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import Private, relay

from app.vocabulary import Phase, PhaseType
from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.members import members
from resolvers.types.node import First, LoadedNode, connection, relation

if TYPE_CHECKING:
    from resolvers.types.device import Device
    from resolvers.types.site import Site


_phase, _phase_type = members(Phase), members(PhaseType)


@strawberry.type(description="How a child's phase is named on its parent (Pleevi's phase_permutations).")
class PhasePermutation:
    child_phase: Phase
    parent_phase: Phase


@strawberry.type(description="A fuse or sub-board of a site's electrical tree (Pleevi's collector, every field).")
class Collector(LoadedNode):
    loader_name = "collector"

    id: relay.NodeID[str]
    name: str
    line_current: float = strawberry.field(description="The fuse: A per phase, in both directions.")
    phase_voltage: float | None = strawberry.field(description="V, phase to neutral.")
    line_voltage: float | None = strawberry.field(description="V, phase to phase.")
    commodity: str
    phase_type: PhaseType = strawberry.field(description="Pleevi's 1P_3P.")
    nb_of_phases: int
    phase: Phase | None = strawberry.field(
        description="For a single-phase collector: the parent phase it hangs on, which is also its own phase's name."
    )
    phase_permutations: list[PhasePermutation] | None = strawberry.field(
        description="Child phase -> parent phase, when the naming differs."
    )
    pk: Private[uuid.UUID]
    site_id: Private[uuid.UUID]
    parent_id: Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: Any) -> Collector:
        permutations = row.phase_permutations
        return cls(
            id=str(row.id),
            pk=row.id,
            name=row.name,
            line_current=row.line_current,
            phase_voltage=row.phase_voltage,
            line_voltage=row.line_voltage,
            commodity=row.commodity,
            phase_type=_phase_type(row.phase_type),
            nb_of_phases=row.nb_of_phases,
            phase=_phase(row.phase) if row.phase else None,
            phase_permutations=None
            if permutations is None
            else [
                PhasePermutation(child_phase=_phase(c), parent_phase=_phase(p)) for c, p in sorted(permutations.items())
            ],
            site_id=row.site_id,
            parent_id=row.parent_id,
        )

    @strawberry.field
    def site(self, info: Info) -> Annotated[Site, strawberry.lazy("resolvers.types.site")] | None:
        from resolvers.types.site import Site

        return relation(info, info.context.loaders.site, self.site_id, Site.from_row)

    @strawberry.field
    def parent(self, info: Info) -> Collector | None:
        return relation(info, info.context.loaders.collector, self.parent_id, Collector.from_row)

    @strawberry.field
    def children(self, info: Info, first: First = None, after: str | None = None) -> Connection[Collector]:
        return connection(info, info.context.loaders.collectors_by_parent, self.pk, first, after, Collector.from_row)

    @strawberry.field(description="The devices wired directly to this collector.")
    def devices(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Device, strawberry.lazy("resolvers.types.device")]]:
        from resolvers.types.device import device_from_row

        return connection(info, info.context.loaders.devices_by_collector, self.pk, first, after, device_from_row)
