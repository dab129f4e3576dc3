"""The Device interface and its three Pleevi types, all stored in one table."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import strawberry
from strawberry import Private, relay

from app.optimization.stored_run import StoredRun
from app.services.aggregation import Period, Resolution
from app.vocabulary import DeviceType, ForecastType, Phase, Pin, PolicyFrequency
from resolvers.connection import Connection
from resolvers.context import Info
from resolvers.loaders import PeriodKey, SpanKey
from resolvers.members import members
from resolvers.types.collector import Collector  # not lazily: a device's collector is read once per device
from resolvers.types.measurement import DeviceMeasurement, RawMeasurement
from resolvers.types.node import First, LoadedNode, connection, relation

if TYPE_CHECKING:
    from resolvers.types.constraint import Constraint
    from resolvers.types.flexibility import Flexibility
    from resolvers.types.ocpp import OcppStation
    from resolvers.types.run import DeviceSchedule, EnforcedLimits
    from resolvers.types.site import Site
    from resolvers.types.steering import ChargingSession, ForecastValue
    from resolvers.types.system import System


_device_type, _pin, _phase = members(DeviceType), members(Pin), members(Phase)


@strawberry.interface(description="An appliance on a collector: charging pole, forecasted series or battery.")
class Device(LoadedNode):
    loader_name = "device"
    device_type: ClassVar[DeviceType]

    id: relay.NodeID[str]
    name: str = strawberry.field(description="Unique in its site; Pleevi's asset id.")
    type: DeviceType
    line_current: float | None = strawberry.field(description="A per phase.")
    created_at: datetime
    system_id: Private[uuid.UUID]
    site_id: Private[uuid.UUID | None]
    collector_id: Private[uuid.UUID | None]

    @classmethod
    def accepts(cls, row: Any) -> bool:
        return row.type == cls.device_type.value

    @classmethod
    def common(cls, row: Any) -> dict[str, Any]:
        return {
            "id": str(row.id),
            "name": row.name,
            "type": _device_type(row.type),
            "line_current": row.line_current,
            "created_at": row.created_at,
            "system_id": row.system_id,
            "site_id": row.site_id,
            "collector_id": row.collector_id,
        }

    @strawberry.field(description="Null once the device's site was deleted (the device stays with its system).")
    def site(self, info: Info) -> Annotated[Site, strawberry.lazy("resolvers.types.site")] | None:
        from resolvers.types.site import Site

        return relation(info, info.context.loaders.site, self.site_id, Site.from_row)

    @strawberry.field
    def collector(self, info: Info) -> Collector | None:
        return relation(info, info.context.loaders.collector, self.collector_id, Collector.from_row)

    @strawberry.field
    def system(self, info: Info) -> Annotated[System, strawberry.lazy("resolvers.types.system")] | None:
        from resolvers.types.system import System

        return relation(info, info.context.loaders.system, self.system_id, System.from_row)

    @strawberry.field(description="Aggregated measurements; the timezone defaults to the site's.")
    async def measurements(
        self,
        info: Info,
        resolution: Resolution,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        timezone: str | None = None,
    ) -> list[DeviceMeasurement]:
        period = Period(resolution, from_, to, timezone)
        period.check()
        buckets = await info.context.loaders.device_measurements.load(PeriodKey(uuid.UUID(self.id), period))
        return [DeviceMeasurement.of(b, resolution) for b in buckets]

    @strawberry.field(description="The newest point the device reported.")
    async def latest_measurement(self, info: Info) -> RawMeasurement | None:
        row = await info.context.loaders.latest_measurement_by_device.load(uuid.UUID(self.id))
        return None if row is None else RawMeasurement.from_row(row)

    @strawberry.field(description="The live constraints, highest priority first.")
    def constraints(
        self, info: Info, first: First = None, after: str | None = None
    ) -> Connection[Annotated[Constraint, strawberry.lazy("resolvers.types.constraint")]]:
        from resolvers.types.constraint import Constraint

        return connection(
            info, info.context.loaders.constraints_by_device, uuid.UUID(self.id), first, after, Constraint.from_row
        )

    @strawberry.field(description="This device's plan in its site's latest run.")
    async def schedule(self, info: Info) -> Annotated[DeviceSchedule, strawberry.lazy("resolvers.types.run")] | None:
        from resolvers.types.run import DeviceSchedule

        run = await self._latest_run(info)
        entry = run.result.devices.get(uuid.UUID(self.id)) if run else None
        return DeviceSchedule.from_document(uuid.UUID(self.id), entry) if entry else None

    @strawberry.field(description="This device's enforced limits in its site's latest run (controllable devices).")
    async def enforced_limits(
        self, info: Info
    ) -> Annotated[EnforcedLimits, strawberry.lazy("resolvers.types.run")] | None:
        from resolvers.types.run import EnforcedLimits

        run = await self._latest_run(info)
        entry = run.enforced_for(uuid.UUID(self.id)) if run else None
        return EnforcedLimits.from_document(entry) if entry else None

    async def _latest_run(self, info: Info) -> StoredRun | None:
        return None if self.site_id is None else await info.context.loaders.latest_run_by_site.load(self.site_id)

    @strawberry.field
    async def flexibility(self, info: Info) -> Annotated[Flexibility, strawberry.lazy("resolvers.types.flexibility")]:
        from resolvers.types.flexibility import device_flexibility

        row = await info.context.loaders.device.load(uuid.UUID(self.id))
        return await device_flexibility(info, row)


@strawberry.type(description="Which connector pin lands on which phase of the pole's collector.")
class PinToPhaseMapping:
    pin_list: list[Pin]
    phase_list: list[Phase]


_MAPPINGS: dict[tuple[tuple[str, ...], tuple[str, ...]], PinToPhaseMapping] = {}


def pin_to_phase_mapping(pins: Sequence[str], phases: Sequence[str]) -> PinToPhaseMapping:
    """One object per distinct mapping, for the process, shared by every pole that has it: a mapping is a few
    names of two small enums (so there are few of them), nothing changes it once made, and a site of many
    poles would otherwise build the same lists of members again for each."""
    key = (tuple(pins), tuple(phases))
    found = _MAPPINGS.get(key)
    if found is None:
        found = _MAPPINGS[key] = PinToPhaseMapping(
            pin_list=[_pin(p) for p in pins], phase_list=[_phase(p) for p in phases]
        )
    return found


@strawberry.type(description="An AC charging pole (Pleevi charging_pole_3phase); one pin makes it single-phase.")
class ChargingPole(Device):
    device_type = DeviceType.CHARGING_POLE

    pin_to_phase_mapping: PinToPhaseMapping
    supports_phase_switching: bool = strawberry.field(
        description="The pole may switch a car between three phases and one (the pin its mapping lists first)."
    )
    bidirectional: bool = strawberry.field(description="The pole can discharge a car whose session allows it.")

    @strawberry.field(description="The open charging session on this pole, if a car is plugged in.")
    def active_session(
        self, info: Info
    ) -> Annotated[ChargingSession, strawberry.lazy("resolvers.types.steering")] | None:
        from resolvers.types.steering import ChargingSession

        return relation(info, info.context.loaders.open_session_by_device, uuid.UUID(self.id), ChargingSession.from_row)

    @strawberry.field(description="The OCPP station that drives this pole (setChargingPoleStation), if any.")
    async def ocpp_station(self, info: Info) -> Annotated[OcppStation, strawberry.lazy("resolvers.types.ocpp")] | None:
        from resolvers.types.ocpp import OcppStation

        row = await info.context.loaders.ocpp_station_by_device.load(uuid.UUID(self.id))
        return None if row is None else OcppStation.from_row(row, info.context.settings)

    @classmethod
    def from_row(cls, row: Any) -> ChargingPole:
        return cls(
            **cls.common(row),
            pin_to_phase_mapping=pin_to_phase_mapping(row.pin_list, row.phase_list),
            supports_phase_switching=bool(row.supports_phase_switching),
            bidirectional=bool(row.bidirectional),
        )


@strawberry.type(
    description="A DC charging pole (Pleevi dc_charging_pole): power-limited, it draws balanced AC current on every "
    "phase of its collector (car-side power / conversionEfficiency / (phases x V)), with no minimum current; "
    "`lineCurrent` (optional) caps that AC current."
)
class DcChargingPole(Device):
    device_type = DeviceType.DC_CHARGING_POLE

    maximum_power: float = strawberry.field(description="W delivered to the car at most.")
    conversion_efficiency: float = strawberry.field(description="Car-side energy per grid-side energy.")
    minimum_power: float | None = strawberry.field(description="W below which the pole does not charge (optional).")
    bidirectional: bool = strawberry.field(description="The pole can discharge a car whose session allows it.")

    @strawberry.field(description="The open charging session on this pole, if a car is plugged in.")
    def active_session(
        self, info: Info
    ) -> Annotated[ChargingSession, strawberry.lazy("resolvers.types.steering")] | None:
        from resolvers.types.steering import ChargingSession

        return relation(info, info.context.loaders.open_session_by_device, uuid.UUID(self.id), ChargingSession.from_row)

    @classmethod
    def from_row(cls, row: Any) -> DcChargingPole:
        return cls(
            **cls.common(row),
            maximum_power=row.maximum_power or 0.0,
            conversion_efficiency=row.conversion_efficiency or 1.0,
            minimum_power=row.minimum_power,
            bidirectional=bool(row.bidirectional),
        )


@strawberry.type(description="A non-controllable load or production with a forecast (Pleevi forecasted_series_3phase).")
class ForecastedSeries(Device):
    device_type = DeviceType.FORECASTED_SERIES

    forecast_type: ForecastType
    should_be_aggregated: bool

    @strawberry.field(description="Forecast changes with from <= timestamp < to; each holds until the next.")
    async def forecast(
        self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime
    ) -> list[Annotated[ForecastValue, strawberry.lazy("resolvers.types.steering")]]:
        from resolvers.types.steering import ForecastValue

        rows = await info.context.loaders.forecast_by_device.load(SpanKey(uuid.UUID(self.id), from_, to))
        return [ForecastValue(timestamp=r.ts, power_value=r.power_w, phase_power_values=r.phase_power_w) for r in rows]

    @classmethod
    def from_row(cls, row: Any) -> ForecastedSeries:
        return cls(
            **cls.common(row),
            forecast_type=ForecastType(row.forecast_type),
            should_be_aggregated=bool(row.should_be_aggregated),
        )


@strawberry.type(description="When the state of charge must lie between a minimum and a maximum (Pleevi BESS policy).")
class BatteryPolicy:
    frequency: PolicyFrequency
    date_times: list[datetime] | None = strawberry.field(description="For `once`: the instants.")
    day_of_week: list[str] | None = strawberry.field(description="For `weekly`: lowercase English weekday names.")
    time: str | None = strawberry.field(description="For `weekly`: HH:MM in `timezone`.")
    timezone: str | None = strawberry.field(description="For `weekly`: an IANA timezone.")
    minimum_state_of_charge: float = strawberry.field(description="%")
    maximum_state_of_charge: float = strawberry.field(description="%")

    @classmethod
    def from_document(cls, policy: dict[str, Any]) -> BatteryPolicy:
        schedule = policy["schedule"]
        return cls(
            frequency=PolicyFrequency(schedule["frequency"]),
            date_times=[datetime.fromisoformat(t) for t in schedule["date_times"]]
            if schedule.get("date_times")
            else None,
            day_of_week=schedule.get("day_of_week"),
            time=schedule.get("time"),
            timezone=schedule.get("timezone"),
            minimum_state_of_charge=policy["minimum_state_of_charge"],
            maximum_state_of_charge=policy["maximum_state_of_charge"],
        )


@strawberry.type(description="A battery energy storage system; its power is positive while charging.")
class Battery(Device):
    device_type = DeviceType.BATTERY

    charging_efficiency: float
    discharging_efficiency: float
    maximum_charging_power: float = strawberry.field(description="W")
    maximum_discharging_power: float = strawberry.field(description="W")
    operational_battery_capacity: float = strawberry.field(description="Wh")
    charging_priority: int = strawberry.field(description="1..10")
    discharging_priority: int = strawberry.field(description="1..10")
    policies: list[BatteryPolicy]

    @classmethod
    def from_row(cls, row: Any) -> Battery:
        return cls(
            **cls.common(row),
            charging_efficiency=row.charging_efficiency,
            discharging_efficiency=row.discharging_efficiency,
            maximum_charging_power=row.maximum_charging_power,
            maximum_discharging_power=row.maximum_discharging_power,
            operational_battery_capacity=row.operational_battery_capacity,
            charging_priority=row.charging_priority,
            discharging_priority=row.discharging_priority,
            policies=[BatteryPolicy.from_document(p) for p in row.policies or []],
        )


DEVICE_TYPES: dict[str, type[ChargingPole | DcChargingPole | ForecastedSeries | Battery]] = {
    t.device_type.value: t for t in (ChargingPole, DcChargingPole, ForecastedSeries, Battery)
}


def device_from_row(row: Any) -> Device:
    return DEVICE_TYPES[row.type].from_row(row)
