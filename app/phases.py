"""Phase names, the nominal voltage and the phase rules that live checks, the snapshot, the flexibility and
the configuration's validation share, so each is written once."""

from __future__ import annotations

import math
from typing import Literal, Protocol

Phase = Literal["L1", "L2", "L3"]
"""A phase of a collector (or, in `phase_permutations` values and `phase`, of its parent)."""

PHASES: tuple[Phase, Phase, Phase] = ("L1", "L2", "L3")

NOMINAL_PHASE_VOLTAGE = 230.0
"""V, where a collector gives neither its phase nor its line voltage."""


class PhasedCollector(Protocol):
    """What these rules read of a collector: the stored row and the configuration's model both have it."""

    @property
    def phase_type(self) -> str: ...

    @property
    def phase(self) -> str | None: ...

    @property
    def phase_voltage(self) -> float | None: ...

    @property
    def line_voltage(self) -> float | None: ...


class PhaseReading(Protocol):
    """A measurement point: per-pin currents where the meter reports them, else its power."""

    @property
    def pin_current(self) -> list[float | None] | None: ...

    @property
    def power_w(self) -> float | None: ...


def phases_of(collector: PhasedCollector) -> tuple[str, ...]:
    """The phases a device on `collector` can use: all three for 3P; for 1P its `phase` (L1 if unnamed)."""
    return PHASES if collector.phase_type == "3P" else (collector.phase or "L1",)


def phase_voltage_of(collector: PhasedCollector | None) -> float | None:
    """A collector's phase voltage: as given, else from its line voltage (/sqrt(3) for 3P)."""
    if collector is None:
        return None
    if collector.phase_voltage:
        return float(collector.phase_voltage)
    if collector.line_voltage:
        return collector.line_voltage / math.sqrt(3) if collector.phase_type == "3P" else float(collector.line_voltage)
    return None


def nominal_voltage_of(collector: PhasedCollector | None) -> float:
    """The phase voltage, or the nominal one where the collector gives none."""
    return phase_voltage_of(collector) or NOMINAL_PHASE_VOLTAGE


def measured_currents(point: PhaseReading, collector: PhasedCollector) -> dict[str, float]:
    """A per-phase reading (pin i on the i-th phase of the collector), else the power spread evenly."""
    phases = phases_of(collector)
    if point.pin_current and any(c is not None for c in point.pin_current):
        return {phase: float(c) for phase, c in zip(phases, point.pin_current, strict=False) if c is not None}
    if point.power_w is None:
        return {}
    per_phase = point.power_w / (nominal_voltage_of(collector) * len(phases))
    return dict.fromkeys(phases, per_phase)
