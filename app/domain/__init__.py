"""Pure validation of Phasewise's inputs: grid identifiers, supply points and site configurations.

No database and no GraphQL here: functions and pydantic models that either return a valid value or
report every broken rule as `app.errors.Issue`s (raised together in `ValidationFailed`).
"""

from app.domain.battery_policies import OnceSchedule, SchedulePolicy, WeeklySchedule
from app.domain.collectors import Collector
from app.domain.devices import Battery, ChargingPole, Device, ForecastedSeries, PinToPhaseMapping
from app.domain.grid_identifiers import (
    SUPPORTED_COUNTRIES,
    make_valid_identifier,
    normalize_grid_identifier,
    validate_grid_identifier,
    validate_supply_points,
)
from app.domain.site_configuration import SiteConfiguration, parse_site_configuration
from app.domain.topology import validate_topology
from app.phases import phases_of

__all__ = [
    "SUPPORTED_COUNTRIES",
    "Battery",
    "ChargingPole",
    "Collector",
    "Device",
    "ForecastedSeries",
    "OnceSchedule",
    "PinToPhaseMapping",
    "SchedulePolicy",
    "SiteConfiguration",
    "WeeklySchedule",
    "make_valid_identifier",
    "normalize_grid_identifier",
    "parse_site_configuration",
    "phases_of",
    "validate_grid_identifier",
    "validate_supply_points",
    "validate_topology",
]
