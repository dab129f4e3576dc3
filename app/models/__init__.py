"""The database tables. Importing this package registers every table on `SQLModel.metadata`."""

from app.models.accounts import Account, ApiKey, User
from app.models.columns import table_of
from app.models.constraints import DeviceConstraint
from app.models.inventory import Cluster, ClusterDevice, Gateway, System, SystemPool, SystemPoolMember
from app.models.measurements import Measurement, MeasurementSlot
from app.models.ocpp import OcppStation
from app.models.optimization import (
    ChargingSession,
    ExternalLimit,
    ForecastPoint,
    OptimizationConfiguration,
    OptimizationRun,
    PricePoint,
)
from app.models.sites import Contract, Site, SupplyPoint, UpstreamSite
from app.models.topology import Collector, Device

__all__ = [
    "table_of",
    "ChargingSession",
    "ExternalLimit",
    "ForecastPoint",
    "OptimizationConfiguration",
    "OptimizationRun",
    "PricePoint",
    "Account",
    "ApiKey",
    "Cluster",
    "ClusterDevice",
    "Collector",
    "Contract",
    "Device",
    "DeviceConstraint",
    "Gateway",
    "Measurement",
    "MeasurementSlot",
    "OcppStation",
    "Site",
    "SupplyPoint",
    "System",
    "SystemPool",
    "SystemPoolMember",
    "UpstreamSite",
    "User",
]
