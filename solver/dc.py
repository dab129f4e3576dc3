"""DC charging poles: power-limited converters that load every phase of their collector evenly.

A DC pole is a car in the LP like any other, with its AC-side current per phase as the variable: on each phase
of its collector it draws P / efficiency / (phases x V) for P delivered to the car, whatever the collector's
phase naming or rotation (every phase gets the same). Its maximum current is what its maximum power needs
there (capped by the pole's line current), its minimum current what its optional minimum power needs (no 6 A
floor), and the energy the car gets is the energy drawn times the conversion efficiency. So the phase physics,
the enforced step and the fallback treat it exactly as they treat an AC car.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from solver.layout import SessionLayout


def dc_session(layout: SessionLayout, phases: tuple[str, ...], voltage: float) -> SessionLayout:
    """The session of a DC pole: every phase of the collector, power-limited, no minimum current by default."""
    pole, session = layout.pole, layout.session
    assert pole.dc_max_power_W is not None
    efficiency = pole.conversion_efficiency
    watts_per_ampere = len(phases) * voltage
    maximum = pole.dc_max_power_W / efficiency / watts_per_ampere
    car_max = session.max_current_per_phase_A
    maximum = min(maximum, pole.line_current if pole.line_current > 0 else maximum)
    if car_max is not None:
        maximum = min(maximum, car_max)
    minimum = pole.dc_min_power_W / efficiency / watts_per_ampere
    return replace(
        layout,
        session=replace(session, ac_min_current_A=minimum, min_phase_count=None),
        phases=phases,
        steps=layout.steps if phases else 0,
        max_current_A=max(maximum, 0.0),
        watts_per_ampere=watts_per_ampere,
        efficiency=efficiency,
    )
