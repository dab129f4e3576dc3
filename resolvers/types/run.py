"""Optimization runs: what the optimizer decided for a site, read from the stored run document."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry
from strawberry import Private, relay
from strawberry.scalars import JSON

from app.optimization.documents import DeviceScheduleDocument, EnforcedLimitsDocument, LimitsRootSideDocument
from app.optimization.stored_run import StoredRun
from resolvers.context import Info
from resolvers.types.node import LoadedNode, relation

if TYPE_CHECKING:
    from resolvers.types.collector import Collector
    from resolvers.types.device import Device


@strawberry.type(description="EVerest LimitsRes: negative values mean the export direction.")
class LimitsRootSide:
    ac_max_current_a: float = strawberry.field(description="A per phase.")
    total_power_w: float
    ac_max_phase_count: int


@strawberry.type
class LimitsScheduleEntry:
    timestamp: datetime
    limits_root_side: LimitsRootSide


@strawberry.type(
    description=(
        "EVerest EnforcedLimits for one controllable device. After `validUntil` without a newer message the "
        "device must stop. A car gets 0 or at least its minimum current, never in between."
    )
)
class EnforcedLimits:
    uuid: str = strawberry.field(description="The device's id (its UUID, as in EVerest's energy tree).")
    valid_until: datetime = strawberry.field(description="`issuedAt` + `validFor`: the device must stop after it.")
    valid_for: float = strawberry.field(
        description="Seconds the limits hold from `issuedAt` (the enforced-limits validity setting, default 60)."
    )
    issued_at: datetime | None = strawberry.field(
        description="When the limits were issued (stored and published); null for runs stored before this field."
    )
    fallback: bool = strawberry.field(
        description="The equal-share fallback's fuse-safe limits (the LP failed, or the site is paused), not a plan."
    )
    limits_root_side: LimitsRootSide
    device_pk: Private[UUID]
    document: Private[EnforcedLimitsDocument]

    @classmethod
    def from_document(cls, doc: EnforcedLimitsDocument) -> EnforcedLimits:
        return cls(
            uuid=str(doc.uuid),
            valid_until=doc.valid_until,
            valid_for=doc.valid_for_s,
            issued_at=doc.issued_at,
            fallback=doc.fallback,
            limits_root_side=_limits(doc.limits_root_side),
            device_pk=doc.uuid,
            document=doc,
        )

    @strawberry.field(description="Informative: the planned limit per step (entry 0 is the enforced one).")
    def schedule(self) -> list[LimitsScheduleEntry]:
        doc = self.document
        now = doc.limits_root_side.ac_max_phase_count
        counts = doc.schedule_phase_count or [now] * len(doc.schedule_current_A)
        start = doc.schedule_start
        step = timedelta(seconds=doc.schedule_step_s)
        return [
            LimitsScheduleEntry(
                timestamp=start + k * step,
                limits_root_side=LimitsRootSide(
                    ac_max_current_a=c or 0.0, total_power_w=p or 0.0, ac_max_phase_count=phases
                ),
            )
            for k, (c, p, phases) in enumerate(zip(doc.schedule_current_A, doc.schedule_power_W, counts, strict=True))
        ]

    @strawberry.field
    def device(self, info: Info) -> Annotated[Device, strawberry.lazy("resolvers.types.device")] | None:
        from resolvers.types.device import device_from_row

        return relation(info, info.context.loaders.device, self.device_pk, device_from_row)


def _limits(doc: LimitsRootSideDocument) -> LimitsRootSide:
    return LimitsRootSide(
        ac_max_current_a=doc.ac_max_current_A,
        total_power_w=doc.total_power_W,
        ac_max_phase_count=doc.ac_max_phase_count,
    )


@strawberry.type
class PhaseValues:
    phase: str
    values: list[float | None]


@strawberry.type(description="A device's plan: power (W) and current per phase of its collector (A), each step.")
class DeviceSchedule:
    kind: str
    power: list[float | None]
    current: list[PhaseValues]
    device_pk: Private[UUID]

    @classmethod
    def from_document(cls, device_id: UUID, doc: DeviceScheduleDocument) -> DeviceSchedule:
        return cls(
            kind=doc.kind,
            power=doc.power_W,
            current=[PhaseValues(phase=p, values=v) for p, v in doc.current_A.items()],
            device_pk=device_id,
        )

    @strawberry.field
    def device(self, info: Info) -> Annotated[Device, strawberry.lazy("resolvers.types.device")] | None:
        from resolvers.types.device import device_from_row

        return relation(info, info.context.loaders.device, self.device_pk, device_from_row)


@strawberry.type
class GridPhase:
    phase: str
    current: list[float | None] = strawberry.field(description="A, signed: import positive.")
    import_power: list[float | None]
    export_power: list[float | None]


@strawberry.type(description="The grid connection's plan, W.")
class GridSchedule:
    net_power: list[float | None]
    import_power: list[float | None]
    export_power: list[float | None]
    phases: list[GridPhase]


@strawberry.type
class BatteryTrajectory:
    state_of_charge: list[float | None] = strawberry.field(description="% at each step boundary (index 0 = now).")
    energy: list[float | None] = strawberry.field(description="Wh at each step boundary.")
    device_pk: Private[UUID]

    @strawberry.field
    def device(self, info: Info) -> Annotated[Device, strawberry.lazy("resolvers.types.device")] | None:
        from resolvers.types.device import device_from_row

        return relation(info, info.context.loaders.device, self.device_pk, device_from_row)


@strawberry.type(description="Energy a session gets by its leave time against the energy it requested, Wh.")
class SessionOutcome:
    target: float = strawberry.field(description="The energy requested.")
    delivered: float
    unmet: float = strawberry.field(description="target - delivered (never negative).")
    untakeable: float = strawberry.field(
        description="The part of the target the car cannot physically take before it leaves, whatever the site does."
    )
    car_energy: list[float | None] | None = strawberry.field(
        description="A car that may discharge: Wh in its battery at each step boundary until it leaves (0 = now)."
    )
    device_pk: Private[UUID]

    @strawberry.field
    def device(self, info: Info) -> Annotated[Device, strawberry.lazy("resolvers.types.device")] | None:
        from resolvers.types.device import device_from_row

        return relation(info, info.context.loaders.device, self.device_pk, device_from_row)


@strawberry.type(description="A limit that held the plan back (from the LP's dual values).")
class BindingLimit:
    kind: str = strawberry.field(description="collector_phase, external_import_current, ..., full_autonomy.")
    phase: str | None
    direction: str
    steps: list[int]
    shadow_price: float = strawberry.field(description="Objective gain per extra A (or W) at those steps.")
    explanation: str
    collector_pk: Private[UUID | None]
    held_back_pks: Private[list[UUID]]

    @strawberry.field
    def collector(self, info: Info) -> Annotated[Collector, strawberry.lazy("resolvers.types.collector")] | None:
        from resolvers.types.collector import Collector

        return relation(info, info.context.loaders.collector, self.collector_pk, Collector.from_row)

    @strawberry.field(description="The controllable devices it held below their own maximum.")
    async def held_back(self, info: Info) -> list[Annotated[Device, strawberry.lazy("resolvers.types.device")]]:
        from resolvers.types.device import device_from_row

        rows = await info.context.loaders.device.load_many(self.held_back_pks)
        return [device_from_row(r) for r in rows if r is not None]


@strawberry.type(description="A soft target the plan misses, or a limit the non-controllable load alone breaks.")
class Violation:
    kind: str = strawberry.field(
        description="charging_target, battery_policy, battery_end_of_horizon, external_import_power, "
        "external_export_power or collector_overload."
    )
    subject_id: str | None = strawberry.field(
        description="The device's or collector's UUID it concerns (null: the grid connection)."
    )
    phase: str | None
    steps: list[int] = strawberry.field(description="Where it happens (step indices of the run's timestamps).")
    amount: float = strawberry.field(description="The worst miss, in `unit`.")
    unit: str = strawberry.field(description="Wh, W or A.")
    explanation: str


@strawberry.type
class Cost:
    energy: float = strawberry.field(description="Import cost minus export revenue.")
    peak: float = strawberry.field(description="Peak price per kW x the highest import (with peak minimization).")
    total: float
    currency: str


@strawberry.type(description="One optimization of a site: its status, cost, plans and enforced limits.")
class OptimizationRun(LoadedNode):
    loader_name = "optimization_run"

    id: relay.NodeID[str]
    created_at: datetime = strawberry.field(description="When the run started.")
    finished_at: datetime | None
    trigger: str
    status: str = strawberry.field(description="The solver's status, or why the fallback allocator planned.")
    used_fallback: bool
    plan_source: str = strawberry.field(
        description="Where the plan comes from: optimized (the LP), best_so_far (the time ran out during the "
        "full-autonomy rounds: the last round's plan), previous_plan (no LP answer: the last optimized plan "
        "shifted to now, equal share where it no longer fits) or equal_share (the fallback)."
    )
    solver: str
    horizon_start: datetime | None
    step_seconds: int
    timestamps: list[datetime] = strawberry.field(description="The start of each step.")
    cost: Cost
    grid: GridSchedule
    schedules: list[DeviceSchedule]
    batteries: list[BatteryTrajectory]
    sessions: list[SessionOutcome]
    binding_limits: list[BindingLimit]
    enforced_limits: list[EnforcedLimits]
    warnings: list[str]
    violations: list[Violation]
    timings: JSON = strawberry.field(
        description="Seconds: build, compile, solve, enforce, total; and the LP's iterations."
    )

    @classmethod
    def from_row(cls, run: StoredRun) -> OptimizationRun:
        doc, grid = run.result, run.result.grid
        energy, peak = run.energy_cost or 0.0, run.peak_cost or 0.0
        return cls(
            id=str(run.id),
            created_at=run.created_at,
            finished_at=run.finished_at,
            trigger=run.trigger,
            status=run.status,
            used_fallback=run.used_fallback,
            plan_source=doc.plan_source,
            solver=run.solver,
            horizon_start=run.horizon_start,
            step_seconds=run.step_s,
            timestamps=doc.timestamps,
            cost=Cost(energy=energy, peak=peak, total=energy + peak, currency=run.currency),
            grid=GridSchedule(
                net_power=grid.net_power_W,
                import_power=grid.import_power_W,
                export_power=grid.export_power_W,
                phases=[
                    GridPhase(
                        phase=p, current=v.current_A, import_power=v.import_power_W, export_power=v.export_power_W
                    )
                    for p, v in grid.phases.items()
                ],
            ),
            schedules=[DeviceSchedule.from_document(d, v) for d, v in doc.devices.items()],
            batteries=[
                BatteryTrajectory(state_of_charge=v.soc_percent, energy=v.soc_Wh, device_pk=d)
                for d, v in doc.batteries.items()
            ],
            sessions=[
                SessionOutcome(
                    target=v.target_Wh,
                    delivered=v.delivered_Wh,
                    unmet=v.unmet_Wh,
                    untakeable=v.untakeable_Wh,
                    car_energy=v.car_energy_Wh,
                    device_pk=d,
                )
                for d, v in doc.sessions.items()
            ],
            binding_limits=[
                BindingLimit(
                    kind=b.kind,
                    phase=b.phase,
                    direction=b.direction,
                    steps=b.steps,
                    shadow_price=b.shadow_price,
                    explanation=b.explanation,
                    collector_pk=b.collector_id,
                    held_back_pks=b.held_back,
                )
                for b in doc.binding_limits
            ],
            enforced_limits=[EnforcedLimits.from_document(e) for e in run.enforced_limits],
            warnings=doc.warnings,
            violations=[
                Violation(
                    kind=v.kind,
                    subject_id=v.subject,
                    phase=v.phase,
                    steps=v.steps,
                    amount=v.amount,
                    unit=v.unit,
                    explanation=v.explanation,
                )
                for v in doc.violations
            ],
            timings=JSON(run.timings.model_dump()),
        )
