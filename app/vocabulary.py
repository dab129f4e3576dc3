"""The enumerations of DOMAIN.md, with the values stored in the database (the sources' own spellings)."""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    ORGANIZATION = "ORGANIZATION"
    CUSTOMER = "CUSTOMER"
    SUPPLIER = "SUPPLIER"
    """Registers upstream sites and contracts, and only it; set up by the platform's operator (the CLI)."""


class SiteStatus(StrEnum):
    NO_RESOURCES = "no_resources"
    ONBOARDED = "onboarded"
    PAUSED = "paused"
    DELETED = "deleted"


class UpstreamStatus(StrEnum):
    NO_UPSTREAM_REGISTERED = "no_upstream_registered"
    NO_CONTRACT = "no_contract"
    CONTRACT_NEEDS_AGREEMENT = "contract_needs_agreement"
    CONTRACT_PENDING = "contract_pending"
    CONTRACT_ACTIVE = "contract_active"
    CONTRACT_INACTIVE = "contract_inactive"


class SupplyDirection(StrEnum):
    OFFTAKE = "offtake"
    INJECTION = "injection"
    BIDIRECTIONAL = "bidirectional"


class Phase(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


class Pin(StrEnum):
    PIN1 = "pin1"
    PIN2 = "pin2"
    PIN3 = "pin3"


class PhaseType(StrEnum):
    """Pleevi's `1P_3P`."""

    SINGLE_PHASE = "1P"
    THREE_PHASE = "3P"


class DeviceType(StrEnum):
    CHARGING_POLE = "charging_pole_3phase"
    DC_CHARGING_POLE = "dc_charging_pole"
    FORECASTED_SERIES = "forecasted_series_3phase"
    BATTERY = "battery_energy_storage_system"


CHARGING_POLES = (DeviceType.CHARGING_POLE.value, DeviceType.DC_CHARGING_POLE.value)
"""Device types a car charges on (AC and DC poles)."""


class ForecastType(StrEnum):
    PV = "pv"
    LOAD = "load"


class PolicyFrequency(StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"


class SessionState(StrEnum):
    """Pleevi's transaction states."""

    STARTED = "Started"
    UPDATED = "Updated"
    SUSPENDED_EV = "SuspendedEV"
    ENDED = "Ended"
