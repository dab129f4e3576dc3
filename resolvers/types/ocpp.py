"""A charging pole's OCPP station as the API shows it (never its password)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry

from app.settings import Settings


def station_online(row: Any, settings: Settings) -> bool:
    """Online while connected and heard within two heartbeats (a process that died leaves no stale `true`)."""
    grace = timedelta(seconds=2 * settings.ocpp_heartbeat_interval_s + settings.ocpp_call_timeout_s)
    return bool(row.online and row.last_seen_at and datetime.now(UTC) - row.last_seen_at <= grace)


def control_warning(row: Any, settings: Settings) -> str | None:
    """Why the pole is not under control: its station refuses profiles, stops answering or is offline."""
    if row is None:
        return None
    if row.control_status != "ok":
        return f"station {row.station_id} {row.control_status}: {row.control_message or 'no reason given'}"
    if not station_online(row, settings):
        return f"station {row.station_id} is offline" + (f": {row.control_message}" if row.control_message else "")
    return None


@strawberry.type(description="The OCPP station (2.0.1 or 1.6) that drives a charging pole, and what it last reported.")
class OcppStation:
    station_id: str = strawberry.field(description="The station's identity: the last part of its /ocpp/ URL.")
    evse_id: int
    connector_id: int
    fallback_current_a: float | None = strawberry.field(
        description="A per phase the station draws when it hears nothing; null: the pole's line current."
    )
    online: bool = strawberry.field(description="Connected and heard within two heartbeat intervals.")
    last_seen_at: datetime | None
    protocol: str | None = strawberry.field(description="ocpp2.0.1 or ocpp1.6, of the latest connection.")
    connector_status: str | None = strawberry.field(description="As the station's StatusNotification gave it.")
    vendor: str | None
    model: str | None
    firmware_version: str | None
    transaction_id: str | None = strawberry.field(description="The station's transaction on this pole, if any.")
    phase_rotation: str | None = strawberry.field(description="The station's PhaseRotation (R, S, T = L1, L2, L3).")
    phase_rotation_issue: str | None = strawberry.field(description="How it disagrees with the pin-to-phase mapping.")
    control_status: str = strawberry.field(description="ok, refused (rejected a profile) or unresponsive.")
    control_warning: str | None = strawberry.field(description="Why the pole is not under control; null if it is.")
    control_changed_at: datetime | None
    last_profile_at: datetime | None = strawberry.field(description="When the station last accepted a profile.")

    @classmethod
    def from_row(cls, row: Any, settings: Settings) -> OcppStation:
        return cls(
            station_id=row.station_id,
            evse_id=row.evse_id,
            connector_id=row.connector_id,
            fallback_current_a=row.fallback_current_a,
            online=station_online(row, settings),
            last_seen_at=row.last_seen_at,
            protocol=row.protocol,
            connector_status=row.connector_status,
            vendor=row.vendor,
            model=row.model,
            firmware_version=row.firmware_version,
            transaction_id=row.transaction_id,
            phase_rotation=row.phase_rotation,
            phase_rotation_issue=row.phase_rotation_issue,
            control_status=row.control_status,
            control_warning=control_warning(row, settings),
            control_changed_at=row.control_changed_at,
            last_profile_at=row.last_profile_at,
        )
