"""A collector: a fuse or sub-board of a site, the nodes of Pleevi's electrical tree.

The rules here are the ones a collector can check on its own (its voltages agree, its phase count
agrees with `1P_3P`, its phase fields fit its kind). Rules that need the rest of the tree (a 1P child
names its phase, a 1P collector has no 3P child, ...) are in `topology`.

Choices where Pleevi's documentation is silent:
- `phase` is refused on a 3P collector: it takes all three phases of its parent, and a renaming belongs
  in `phase_permutations`. A 1P root may name its phase (it is L1 when it does not).
- `phase_permutations` is refused on a 1P collector and must map each of L1, L2, L3 to a distinct
  parent phase: a partial or many-to-one mapping would lose current in the phase physics.
- With only `line_voltage`, a 3P collector's phase voltage is line / sqrt(3) and a 1P collector's is
  the line voltage itself (a single-phase supply has one voltage). With both on a 3P collector they
  must agree within 1 %; on a 1P collector both are kept as given.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator

from app.domain.common import Current, DomainModel, Name, Phase, Voltage
from app.domain.pydantic_issues import domain_error
from app.errors import ErrorCode
from app.phases import PHASES, phase_voltage_of, phases_of

PhaseType = Literal["1P", "3P"]

VOLTAGE_TOLERANCE = 0.01
"""How far line voltage may stray from phase voltage x sqrt(3) (relative): nameplates round (230 / 400)."""


class Collector(DomainModel):
    """One collector as Pleevi writes it; `parent` is filled in by the `SiteConfiguration` it is part of."""

    name: Name
    children: list[Name] = Field(default_factory=list)
    line_current: Current
    commodity: Literal["electricity"] = "electricity"
    phase_type: PhaseType = Field(default="3P", alias="1P_3P")
    nb_of_phases: Literal[1, 3] | None = Field(default=None, validate_default=True)
    """Always set after validation (derived from `1P_3P` when not given); optional only as input."""
    line_voltage: Voltage | None = None
    phase_voltage: Voltage | None = Field(default=None, validate_default=True)
    phase: Phase | None = None
    phase_permutations: dict[Phase, Phase] | None = None

    _parent: str | None = PrivateAttr(default=None)

    @field_validator("nb_of_phases")
    @classmethod
    def _phase_count_agrees(cls, value: int | None, info: ValidationInfo) -> int | None:
        """`nb_of_phases` repeats `1P_3P`; a contradiction means one of them is a typo."""
        if "phase_type" not in info.data:
            return value
        expected = 1 if info.data["phase_type"] == "1P" else 3
        if value is not None and value != expected:
            raise domain_error(ErrorCode.INVALID, f"is {value} but 1P_3P is {info.data['phase_type']}: they must agree")
        return expected

    @field_validator("phase_voltage")
    @classmethod
    def _voltages_given_and_agree(cls, value: float | None, info: ValidationInfo) -> float | None:
        """One voltage is needed to turn current into power; two on a 3P collector must be consistent."""
        if "line_voltage" not in info.data or "phase_type" not in info.data:
            return value
        line = info.data["line_voltage"]
        if value is None and line is None:
            raise domain_error(ErrorCode.REQUIRED, "give phase_voltage or line_voltage (or both)")
        if value is not None and line is not None and info.data["phase_type"] == "3P":
            expected = value * math.sqrt(3)
            if abs(line - expected) > VOLTAGE_TOLERANCE * expected:
                raise domain_error(
                    ErrorCode.INVALID,
                    f"{value:g} V disagrees with line_voltage {line:g} V: a 3P collector has "
                    f"line = phase x sqrt(3) = {expected:.1f} V, within 1 %",
                )
        return value

    @field_validator("phase")
    @classmethod
    def _phase_only_when_single(cls, value: Phase | None, info: ValidationInfo) -> Phase | None:
        if value is not None and info.data.get("phase_type") == "3P":
            raise domain_error(
                ErrorCode.INVALID,
                "only a 1P collector names the phase it hangs on; a 3P collector takes all three "
                "(rename them with phase_permutations)",
            )
        return value

    @field_validator("phase_permutations")
    @classmethod
    def _permutation_is_one_to_one(
        cls, value: dict[Phase, Phase] | None, info: ValidationInfo
    ) -> dict[Phase, Phase] | None:
        """Every phase of the child lands on exactly one phase of the parent, and no two on the same."""
        if value is None:
            return value
        if info.data.get("phase_type") == "1P":
            raise domain_error(
                ErrorCode.INVALID,
                "only a 3P collector maps its phases; a 1P collector names its parent phase in phase",
            )
        missing = [phase for phase in PHASES if phase not in value]
        if missing:
            raise domain_error(ErrorCode.INVALID, f"must map each of L1, L2, L3; missing {', '.join(missing)}")
        first_with: dict[Phase, Phase] = {}
        for child_phase, parent_phase in value.items():
            if parent_phase in first_with:
                raise domain_error(
                    ErrorCode.INVALID,
                    f"{first_with[parent_phase]} and {child_phase} both map to parent phase {parent_phase}: "
                    "the mapping must be one-to-one",
                    at=(child_phase,),
                )
            first_with[parent_phase] = child_phase
        return value

    @property
    def parent(self) -> str | None:
        """The name of the collector listing this one in its `children`; None for the root (or alone)."""
        return self._parent

    @property
    def phases(self) -> tuple[str, ...]:
        return phases_of(self)

    @property
    def nominal_phase_voltage(self) -> float:
        """Phase-to-neutral voltage, derived from the line voltage when only that is given."""
        voltage = phase_voltage_of(self)
        assert voltage is not None  # validation guarantees one of the two
        return voltage

    def parent_phase(self, phase: Phase) -> Phase:
        """The parent phase that this collector's `phase` lands on (a 1P collector's only phase is
        already named after its parent's phase)."""
        if self.phase_type == "1P" or self.phase_permutations is None:
            return phase
        return self.phase_permutations[phase]
