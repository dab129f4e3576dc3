"""A stored optimization run as its readers see it: the row's columns with its documents parsed.

Every reader (GraphQL types, subscriptions, the overload check) gets a `StoredRun`, parsed once where the
run is read. A row whose documents do not parse raises `RunDocumentError`, naming the run: a renamed or
missing key is a fault to fix, never an empty schedule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from app.optimization.documents import EnforcedLimitsDocument, RunDocument, TimingsDocument


class RunDocumentError(Exception):
    """A stored run whose documents this code cannot read (an internal fault: masked for API callers)."""

    def __init__(self, run_id: object, error: ValidationError) -> None:
        super().__init__(f"stored optimization run {run_id} does not parse: {error}")
        self.run_id = run_id
        self.error = error


class StoredRun(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)

    id: UUID
    account_id: UUID
    site_id: UUID
    created_at: datetime
    finished_at: datetime | None
    trigger: str
    status: str
    used_fallback: bool
    solver: str
    horizon_start: datetime | None
    valid_until: datetime | None
    step_s: int
    energy_cost: float | None
    peak_cost: float | None
    currency: str
    timings: TimingsDocument
    result: RunDocument
    enforced_limits: list[EnforcedLimitsDocument]

    def enforced_for(self, device_id: UUID) -> EnforcedLimitsDocument | None:
        return next((e for e in self.enforced_limits if e.uuid == device_id), None)


def parse_run(row: Any) -> StoredRun:
    """`row`: an `OptimizationRun` or a result row with its columns (anything with those attributes)."""
    try:
        return StoredRun.model_validate(row)
    except ValidationError as exc:
        raise RunDocumentError(getattr(row, "id", None), exc) from exc
