"""Enforced limits as OCPP charging profiles: amperes per phase with the phase count, `validTo` at the
limits' `valid_until`, the limit of now as the first period and the plan's later steps as the next ones."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from app.optimization.documents import EnforcedLimitsDocument

# Stations accept a bounded number of periods per schedule (2.0.1 `PeriodsPerSchedule`; 24 is common).
MAX_PERIODS = 24
TX_DEFAULT_PROFILE_ID, TX_PROFILE_ID = 1, 2


@dataclass(frozen=True)
class PoleLimits:
    """One pole's entry of a run's enforced limits, read from the stored run."""

    run_id: uuid.UUID
    planned_at: datetime  # the run's snapshot (its `created_at`): what a newer plan is newer by
    issued_at: datetime
    device_id: uuid.UUID
    valid_until: datetime
    current_a: float
    phase_count: int | None
    later: tuple[tuple[datetime, float], ...]  # (from, A) for the plan's steps after now

    @classmethod
    def from_entry(
        cls, run_id: uuid.UUID, planned_at: datetime, issued_at: datetime, entry: EnforcedLimitsDocument, now: datetime
    ) -> PoleLimits:
        step = timedelta(seconds=entry.schedule_step_s)
        later = tuple(
            (entry.schedule_start + k * step, float(value))
            for k, value in enumerate(entry.schedule_current_A)
            if value is not None and entry.schedule_start + k * step > now
        )
        return cls(
            run_id=run_id,
            planned_at=planned_at,
            issued_at=issued_at,
            device_id=entry.uuid,
            valid_until=entry.valid_until,
            current_a=entry.limits_root_side.ac_max_current_A,
            phase_count=entry.limits_root_side.ac_max_phase_count,
            later=later,
        )

    def capped(self, ceiling_a: float, until: datetime | None) -> PoleLimits:
        """These limits held under `ceiling_a` (a lowered bound, in force until `until`; None: for good)."""
        later = tuple((m, min(a, ceiling_a) if until is None or m < until else a) for m, a in self.later)
        return replace(self, current_a=min(self.current_a, ceiling_a), later=later)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _station_limit(current_a: float) -> float:
    """OCPP 1.6 and 2.0.1 profiles only cap what a car draws (discharging needs 2.1's V2X): a step where the
    plan discharges the car is sent as 0 A, the car neither charging nor discharging."""
    return round(max(0.0, current_a), 1)


def _periods(limits: PoleLimits, start: datetime) -> list[dict[str, Any]]:
    phases = {"number_phases": limits.phase_count} if limits.phase_count else {}
    periods = [{"start_period": 0, "limit": _station_limit(limits.current_a), **phases}]
    for moment, current in limits.later:
        offset = int((moment - start).total_seconds())
        if offset > periods[-1]["start_period"] and len(periods) < MAX_PERIODS:
            periods.append({"start_period": offset, "limit": _station_limit(current), **phases})
    return periods


def profile_v201(limits: PoleLimits, transaction_id: str | None, now: datetime) -> dict[str, Any]:
    """`chargingProfile` of a 2.0.1 SetChargingProfile (snake_case, as the ocpp library takes it)."""
    profile: dict[str, Any] = {
        "id": TX_PROFILE_ID if transaction_id else TX_DEFAULT_PROFILE_ID,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile" if transaction_id else "TxDefaultProfile",
        "charging_profile_kind": "Absolute",
        "valid_from": _iso(now),
        "valid_to": _iso(limits.valid_until),
        "charging_schedule": [
            {
                "id": 1,
                "start_schedule": _iso(now),
                "charging_rate_unit": "A",
                "charging_schedule_period": _periods(limits, now),
            }
        ],
    }
    if transaction_id:
        profile["transaction_id"] = transaction_id
    return profile


def profile_v16(limits: PoleLimits, transaction_id: str | None, now: datetime) -> dict[str, Any]:
    """`csChargingProfiles` of a 1.6 SetChargingProfile."""
    profile: dict[str, Any] = {
        "charging_profile_id": TX_PROFILE_ID if transaction_id else TX_DEFAULT_PROFILE_ID,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile" if transaction_id else "TxDefaultProfile",
        "charging_profile_kind": "Absolute",
        "valid_from": _iso(now),
        "valid_to": _iso(limits.valid_until),
        "charging_schedule": {
            "start_schedule": _iso(now),
            "charging_rate_unit": "A",
            "charging_schedule_period": _periods(limits, now),
        },
    }
    if transaction_id:
        profile["transaction_id"] = int(transaction_id)
    return profile
