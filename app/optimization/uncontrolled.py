"""Poles whose OCPP station is not under control: a station that refuses profiles, stops answering or is
offline draws its own fallback current (what a station takes when it hears nothing), so its car is planned
at that current until its need is met and the other poles are planned around it. A station's phase rotation
that contradicts its pole's pin-to-phase mapping is reported with the run. Pure: the stations come with the
site's inputs."""

from __future__ import annotations

from datetime import timedelta

import solver
from app.optimization.site_inputs import SiteInputs
from app.phases import nominal_voltage_of

UNCONTROLLED_HORIZON = timedelta(days=7)


def station_bounds(
    inputs: SiteInputs, sessions: tuple[solver.ChargingSession, ...]
) -> tuple[list[solver.FlexibilityBounds], list[str]]:
    """Bounds pinning uncontrolled poles' cars at their fallback current, and the warnings that say so."""
    stations = {str(row.device_id): row for row in inputs.stations}
    devices = {str(d.id): d for d in inputs.devices}
    collectors = {c.id: c for c in inputs.collectors}
    warnings = [
        f"station {row.station_id}: {row.phase_rotation_issue}" for row in inputs.stations if row.phase_rotation_issue
    ]
    bounds = []
    for car in sessions:
        row = stations.get(car.device_id)
        pole = devices.get(car.device_id)
        if row is None or pole is None or pole.collector_id is None or (row.online and row.control_status == "ok"):
            continue
        current = row.fallback_current_a if row.fallback_current_a is not None else pole.line_current or 0.0
        watts = current * nominal_voltage_of(collectors[pole.collector_id]) * len(car.used_pins)
        hours = car.energy_needed_Wh / watts if watts > 0 else 0.0
        until = inputs.window.now + min(timedelta(hours=hours), UNCONTROLLED_HORIZON)
        why = row.control_status if row.control_status != "ok" else "offline"
        warnings.append(
            f"station {row.station_id} is {why}: its car is planned at the fallback current of {current:g} A"
        )
        bounds.append(solver.FlexibilityBounds(car.device_id, min_power_W=watts, max_power_W=watts, valid_until=until))
    return bounds, warnings
