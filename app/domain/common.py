"""Building blocks shared by the site-configuration models: the base model and the constrained types.

Numbers and booleans are strict: a JSON document that says `"line_current": "63"` or `true` is a client
bug, and quietly reading `true` as 1 A would be worse than refusing it. Names are stripped of surrounding
whitespace, so `" main "` and `"main"` cannot become two collectors that look the same.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from app.domain.bounds import MAX_CURRENT_A, MAX_ENERGY_WH, MAX_POWER_W, MAX_VOLTAGE_V, name_issue
from app.phases import Phase

__all__ = [
    "Current",
    "DomainModel",
    "Energy",
    "Flag",
    "Fraction",
    "Name",
    "Percentage",
    "Phase",
    "Power",
    "Priority",
    "Voltage",
]


def _printable_name(value: str) -> str:
    issue = name_issue(value)
    if issue is not None:
        raise PydanticCustomError(issue[0].value, "{message}", {"message": issue[1]})
    return value


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, strict=True), AfterValidator(_printable_name)
]
"""A collector's or device's name, and every reference to one: at most 200 printable characters."""

Current = Annotated[float, Field(gt=0, le=MAX_CURRENT_A, strict=True, allow_inf_nan=False)]
"""A line current (A per phase): a fuse, a pole's or a series' rating."""

Voltage = Annotated[float, Field(gt=0, le=MAX_VOLTAGE_V, strict=True, allow_inf_nan=False)]

Power = Annotated[float, Field(gt=0, le=MAX_POWER_W, strict=True, allow_inf_nan=False)]
"""A power rating (W)."""

Energy = Annotated[float, Field(gt=0, le=MAX_ENERGY_WH, strict=True, allow_inf_nan=False)]
"""A capacity (Wh)."""

Fraction = Annotated[float, Field(gt=0, le=1, strict=True, allow_inf_nan=False)]
"""An efficiency: 0 < x <= 1."""

Percentage = Annotated[float, Field(ge=0, le=100, strict=True, allow_inf_nan=False)]
"""A state of charge in %."""

Priority = Annotated[int, Field(ge=1, le=10, strict=True)]
"""Pleevi's battery priorities: 1..10."""

Flag = Annotated[bool, Field(strict=True)]


class DomainModel(BaseModel):
    """Immutable, and refusing unknown fields: a field we would silently drop is a setting the user
    believes is applied. Fields can be given by name or by alias (`1P_3P` / `phase_type`). Instances are
    revalidated when nested, so a model built in code is checked too and a configuration owns copies of
    its collectors (each learns its parent there)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        revalidate_instances="always",
    )
