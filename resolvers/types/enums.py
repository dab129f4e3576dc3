"""The domain's enumerations, registered as GraphQL enums (the Python enums are the single definition)."""

import strawberry

from app.auth import Role
from app.vocabulary import (
    AccountKind,
    DeviceType,
    ForecastType,
    Phase,
    PhaseType,
    Pin,
    PolicyFrequency,
    SessionState,
    SiteStatus,
    SupplyDirection,
    UpstreamStatus,
)

for _enum in (
    Role,
    AccountKind,
    DeviceType,
    ForecastType,
    Phase,
    PhaseType,
    Pin,
    PolicyFrequency,
    SessionState,
    SiteStatus,
    SupplyDirection,
    UpstreamStatus,
):
    strawberry.enum(_enum)
