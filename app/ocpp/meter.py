"""OCPP meter values as measurements: per-phase current, voltage and power on the pole's pins, the energy
register, total power and the car's state of charge. The station's phases L1, L2, L3 are its connector's
pins 1, 2, 3 (the pole's pin-to-phase mapping places them on the site's phases)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from app.services.measurements import IngestPoint, PinReading

_PIN_OF_PHASE = {"L1": "pin1", "L2": "pin2", "L3": "pin3", "L1-N": "pin1", "L2-N": "pin2", "L3-N": "pin3"}
_PREFIX = {"k": 1e3, "M": 1e6}
# measurand -> (IngestPoint field when no phase is given, PinReading field per phase)
_MEASURANDS = {
    "Current.Import": (None, "current"),
    "Voltage": (None, "voltage"),
    "Power.Active.Import": ("power_w", "power"),
    "Energy.Active.Import.Register": ("energy_wh", None),
    "SoC": ("soc", None),
}


def timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _scaled(sample: dict[str, Any]) -> float:
    """The value in W, Wh, A, V or %: OCPP 2.0.1 gives `unit_of_measure {unit, multiplier}`, 1.6 a `unit`."""
    value = float(sample["value"])
    unit_of_measure = sample.get("unit_of_measure") or {}
    unit = unit_of_measure.get("unit") or sample.get("unit") or ""
    value *= 10 ** int(unit_of_measure.get("multiplier", 0))
    if len(unit) > 1 and unit[0] in _PREFIX and unit[1:] in ("W", "Wh", "VA", "var", "varh"):
        value *= _PREFIX[unit[0]]
    return value


def meter_points(device_id: uuid.UUID, meter_values: list[dict[str, Any]]) -> list[IngestPoint]:
    """One point per meter value; samples of other measurands, or of other contexts than readings, are skipped."""
    points = []
    for meter_value in meter_values:
        fields: dict[str, float] = {}
        pins: dict[str, dict[str, float]] = defaultdict(dict)
        for sample in meter_value.get("sampled_value") or []:
            kind = _MEASURANDS.get(sample.get("measurand") or "Energy.Active.Import.Register")
            if kind is None or sample.get("context") in ("Interruption.Begin", "Interruption.End"):
                continue
            total_field, pin_field = kind
            pin = _PIN_OF_PHASE.get(sample.get("phase") or "")
            if pin is not None and pin_field is not None:
                pins[pin][pin_field] = _scaled(sample)
            elif pin is None and total_field is not None:
                fields[total_field] = _scaled(sample)
        if not fields and not pins:
            continue
        readings = tuple(PinReading(pin, **values) for pin, values in sorted(pins.items()))
        if "power_w" not in fields and any(r.power is not None for r in readings):
            fields["power_w"] = sum(r.power or 0.0 for r in readings)
        points.append(
            IngestPoint(
                timestamp=timestamp(meter_value["timestamp"]),
                device_id=device_id,
                power_w=fields.get("power_w"),
                energy_wh=fields.get("energy_wh"),
                soc=fields.get("soc"),
                pins=readings,
            )
        )
    return points
