"""Measurements as GraphQL types: raw points, device and system aggregates, live flows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from app.services.aggregation import DeviceBucket, Resolution, SystemBucket

strawberry.enum(
    Resolution, description="15m and 1h: mean power in W at the bucket's end; others: energy in Wh at its start."
)


@strawberry.type
class PinMeasurement:
    pin: str
    current_value: float | None = strawberry.field(description="A")
    voltage_value: float | None = strawberry.field(description="V")
    power_value: float | None = strawberry.field(description="W")


@strawberry.type(description="A point as the device reported it.")
class RawMeasurement:
    timestamp: datetime
    power_value: float | None = strawberry.field(description="W; consumption and charging positive.")
    energy_value: float | None = strawberry.field(description="Wh, the meter reading.")
    current_state_of_charge: float | None = strawberry.field(description="%")
    pins: list[PinMeasurement]

    @classmethod
    def from_row(cls, row: Any) -> RawMeasurement:
        pins = []
        for index, pin in enumerate(("pin1", "pin2", "pin3")):
            values = [
                (row.pin_current or [None] * 3)[index],
                (row.pin_voltage or [None] * 3)[index],
                (row.pin_power or [None] * 3)[index],
            ]
            if any(v is not None for v in values):
                pins.append(
                    PinMeasurement(pin=pin, current_value=values[0], voltage_value=values[1], power_value=values[2])
                )
        return cls(
            timestamp=row.ts,
            power_value=row.power_w,
            energy_value=row.energy_wh,
            current_state_of_charge=row.soc,
            pins=pins,
        )


def _mean_power(energy_wh: float, covered_s: float) -> float | None:
    return energy_wh * 3600 / covered_s if covered_s > 0 else None


@strawberry.type(description="One bucket of a device's measurements.")
class DeviceMeasurement:
    timestamp: datetime = strawberry.field(description="The bucket's end (15m, 1h) or start (1d and longer).")
    power: float | None = strawberry.field(description="15m and 1h: mean power in W over the time measured.")
    energy: float | None = strawberry.field(description="1d and longer: net energy in Wh (in minus out).")
    energy_in: float = strawberry.field(description="Wh consumed (charged) in the bucket.")
    energy_out: float = strawberry.field(description="Wh produced (discharged) in the bucket.")
    state_of_charge: float | None = strawberry.field(description="Mean state of charge, %.")

    @classmethod
    def of(cls, bucket: DeviceBucket, resolution: Resolution) -> DeviceMeasurement:
        net = bucket.energy_in_wh - bucket.energy_out_wh
        return cls(
            timestamp=bucket.timestamp,
            power=_mean_power(net, bucket.covered_s) if resolution.is_power else None,
            energy=None if resolution.is_power else net,
            energy_in=bucket.energy_in_wh,
            energy_out=bucket.energy_out_wh,
            state_of_charge=bucket.state_of_charge,
        )


def _rate(part: float, whole: float) -> float | None:
    return 1 - part / whole if whole > 0 else None


@strawberry.type(description="One bucket of a system's (or pool's) combined flows; all values >= 0.")
class SystemMeasurement:
    timestamp: datetime = strawberry.field(description="The bucket's end (15m, 1h) or start (1d and longer).")
    unit: str = strawberry.field(description="'W' (mean power: 15m, 1h) or 'Wh' (energy: 1d and longer).")
    production: float = strawberry.field(description="PV: -(net flow of the pv forecasted series).")
    consumption: float = strawberry.field(description="load series + EV charging (batteries excluded).")
    ev_charging: float = strawberry.field(description="Net flow of the charging poles.")
    battery_charge: float = strawberry.field(description="Energy into the batteries.")
    battery_discharge: float = strawberry.field(description="Energy out of the batteries.")
    grid_import: float = strawberry.field(
        description="Per 15-minute slot: max(consumption + charge - discharge - production, 0), summed."
    )
    grid_export: float = strawberry.field(
        description="Per 15-minute slot: max(production + discharge - charge - consumption, 0), summed."
    )
    state_of_charge: float | None = strawberry.field(description="Capacity-weighted mean state of charge, %.")
    self_consumption_rate: float | None = strawberry.field(
        description="1 - gridExport / production: the share of production used on site (null without production)."
    )
    self_sufficiency_rate: float | None = strawberry.field(
        description="1 - gridImport / consumption: the share of consumption met on site (null without consumption)."
    )

    @classmethod
    def of(cls, b: SystemBucket, resolution: Resolution) -> SystemMeasurement:
        def value(wh: float) -> float:
            if not resolution.is_power:
                return wh
            return (_mean_power(wh, b.covered_s) or 0.0) if wh else 0.0

        return cls(
            timestamp=b.timestamp,
            unit="W" if resolution.is_power else "Wh",
            production=value(b.production_wh),
            consumption=value(b.consumption_wh),
            ev_charging=value(b.ev_charging_wh),
            battery_charge=value(b.battery_charge_wh),
            battery_discharge=value(b.battery_discharge_wh),
            grid_import=value(b.grid_import_wh),
            grid_export=value(b.grid_export_wh),
            state_of_charge=b.state_of_charge,
            self_consumption_rate=_rate(b.grid_export_wh, b.production_wh),
            self_sufficiency_rate=_rate(b.grid_import_wh, b.consumption_wh),
        )


@strawberry.type(description="A system's current flows from its devices' latest points (at most 15 minutes old), W.")
class LiveFlows:
    timestamp: datetime | None = strawberry.field(description="The oldest of the points used.")
    production: float
    consumption: float
    ev_charging: float
    battery_power: float = strawberry.field(description="Positive while charging.")
    grid_power: float = strawberry.field(description="consumption + batteryPower - production; import positive.")
    state_of_charge: float | None
    devices_reporting: int


LIVE_WINDOW_S = 15 * 60


def live_flows(devices: list[Any], latest: list[Any], now: datetime) -> LiveFlows:
    production = consumption = ev = battery = 0.0
    socs: list[tuple[float, float]] = []
    stamps = []
    for device, point in zip(devices, latest, strict=True):
        if point is None or point.power_w is None or (now - point.ts).total_seconds() > LIVE_WINDOW_S:
            continue
        stamps.append(point.ts)
        if device.type == "battery_energy_storage_system":
            battery += point.power_w
            if point.soc is not None:
                socs.append((point.soc, device.operational_battery_capacity or 0.0))
        elif device.type == "charging_pole_3phase":
            ev += point.power_w
        elif device.forecast_type == "pv":
            production -= point.power_w
        else:
            consumption += point.power_w
    capacity = sum(c for _, c in socs)
    return LiveFlows(
        timestamp=min(stamps, default=None),
        production=production,
        consumption=consumption + ev,
        ev_charging=ev,
        battery_power=battery,
        grid_power=consumption + ev + battery - production,
        state_of_charge=sum(s * c for s, c in socs) / capacity if capacity else None,
        devices_reporting=len(stamps),
    )
