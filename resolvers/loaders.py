"""Per-request DataLoaders: one SQL statement per loader per level of a query, tenancy in every statement.

Each relation of the schema names its loader here, built from a shape of `resolvers.loader_kinds`. They are
made on first use and fresh for every request (and every subscription event): nothing is cached across.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from functools import cached_property, partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import col
from strawberry.dataloader import DataLoader

from app.models import (
    Account,
    ApiKey,
    ChargingSession,
    Cluster,
    ClusterDevice,
    Collector,
    Contract,
    Device,
    DeviceConstraint,
    ExternalLimit,
    ForecastPoint,
    Gateway,
    OcppStation,
    OptimizationConfiguration,
    OptimizationRun,
    PricePoint,
    Site,
    SupplyPoint,
    System,
    SystemPool,
    SystemPoolMember,
    UpstreamSite,
    User,
    table_of,
)
from app.optimization.snapshot import delivered_statement, newest_measurements
from app.optimization.stored_run import StoredRun, parse_run
from app.services.aggregation import DeviceBucket, SystemBucket, device_buckets, system_buckets
from resolvers import statements
from resolvers.connection import Page
from resolvers.loader_kinds import ChildKey, LoaderKinds, PeriodKey, Reader, RowT, SpanKey
from resolvers.shared_loads import Loader

__all__ = ["ChildKey", "Loaders", "PeriodKey", "RowT", "SpanKey"]

LIVE_CONSTRAINT = col(DeviceConstraint.invalid_at) > func.now()
BY_PRIORITY = [col(DeviceConstraint.priority).desc(), col(DeviceConstraint.created_at).desc()]


class Loaders(LoaderKinds):
    @cached_property
    def account(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(Account)

    @cached_property
    def user(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(User)

    @cached_property
    def api_key(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(ApiKey)

    @cached_property
    def system(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(System)

    @cached_property
    def gateway(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(Gateway)

    @cached_property
    def system_pool(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(SystemPool)

    @cached_property
    def cluster(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(Cluster)

    @cached_property
    def site(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(Site, col(Site.deleted_at).is_(None))

    @cached_property
    def upstream_site(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(UpstreamSite)

    @cached_property
    def contract(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(Contract)

    @cached_property
    def collector(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(Collector)

    @cached_property
    def device(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(Device)

    @cached_property
    def constraint(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(DeviceConstraint)

    @cached_property
    def gateway_by_system(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._one_by(Gateway, col(Gateway.system_id))

    @cached_property
    def ocpp_station_by_device(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._one_by(OcppStation, col(OcppStation.device_id))

    @cached_property
    def main_collector_by_site(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._one_by(Collector, col(Collector.site_id), col(Collector.parent_id).is_(None))

    @cached_property
    def supply_points_by_site(self) -> DataLoader[uuid.UUID, list[RowT]]:
        return self._all_by(SupplyPoint, col(SupplyPoint.site_id), order_by=[col(SupplyPoint.position)])

    @cached_property
    def upstream_status_by_site(self) -> DataLoader[uuid.UUID, str | None]:
        return Loader(partial(_upstream_statuses, self._reader))

    @cached_property
    def device_counts_by_site(self) -> DataLoader[uuid.UUID, dict[str, int]]:
        return Loader(partial(_device_counts, self._reader))

    @cached_property
    def accounts_by_parent(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Account, col(Account.parent_id), [col(Account.name)])

    @cached_property
    def users_by_account(self) -> DataLoader[ChildKey, Page]:
        return self._paged(User, col(User.account_id), [col(User.email)])

    @cached_property
    def api_keys_by_account(self) -> DataLoader[ChildKey, Page]:
        return self._paged(ApiKey, col(ApiKey.account_id), [col(ApiKey.name)])

    @cached_property
    def systems_by_account(self) -> DataLoader[ChildKey, Page]:
        return self._paged(System, col(System.account_id), [col(System.name)])

    @cached_property
    def pools_by_account(self) -> DataLoader[ChildKey, Page]:
        return self._paged(SystemPool, col(SystemPool.account_id), [col(SystemPool.name)])

    @cached_property
    def upstream_sites_by_account(self) -> DataLoader[ChildKey, Page]:
        return self._paged(UpstreamSite, col(UpstreamSite.account_id), [col(UpstreamSite.grid_identifier)])

    @cached_property
    def sites_by_system(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Site, col(Site.system_id), [col(Site.name)], col(Site.deleted_at).is_(None))

    @cached_property
    def clusters_by_system(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Cluster, col(Cluster.system_id), [col(Cluster.name)], col(Cluster.parent_id).is_(None))

    @cached_property
    def devices_by_system(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Device, col(Device.system_id), [col(Device.name)])

    @cached_property
    def collectors_by_site(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Collector, col(Collector.site_id), [col(Collector.position), col(Collector.name)])

    @cached_property
    def devices_by_site(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Device, col(Device.site_id), [col(Device.position), col(Device.name)])

    @cached_property
    def collectors_by_parent(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Collector, col(Collector.parent_id), [col(Collector.position), col(Collector.name)])

    @cached_property
    def devices_by_collector(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Device, col(Device.collector_id), [col(Device.position), col(Device.name)])

    @cached_property
    def clusters_by_parent(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Cluster, col(Cluster.parent_id), [col(Cluster.name)])

    @cached_property
    def contracts_by_upstream_site(self) -> DataLoader[ChildKey, Page]:
        return self._paged(Contract, col(Contract.upstream_site_id), [col(Contract.start_at)])

    @cached_property
    def constraints_by_device(self) -> DataLoader[ChildKey, Page]:
        return self._paged(DeviceConstraint, col(DeviceConstraint.device_id), BY_PRIORITY, LIVE_CONSTRAINT)

    @cached_property
    def constraints_by_cluster(self) -> DataLoader[ChildKey, Page]:
        return self._paged(
            DeviceConstraint,
            col(ClusterDevice.cluster_id),
            BY_PRIORITY,
            LIVE_CONSTRAINT,
            source=table_of(DeviceConstraint).join(
                table_of(ClusterDevice), col(ClusterDevice.device_id) == col(DeviceConstraint.device_id)
            ),
        )

    @cached_property
    def live_constraints_by_device(self) -> DataLoader[uuid.UUID, list[RowT]]:
        return self._all_by(DeviceConstraint, col(DeviceConstraint.device_id), BY_PRIORITY, LIVE_CONSTRAINT)

    @cached_property
    def all_devices_by_system(self) -> DataLoader[uuid.UUID, list[RowT]]:
        return self._all_by(Device, col(Device.system_id), [col(Device.name)])

    @cached_property
    def all_systems_by_pool(self) -> DataLoader[uuid.UUID, list[RowT]]:
        return self._all_by(
            System,
            col(SystemPoolMember.pool_id),
            [col(System.name)],
            source=table_of(System).join(table_of(SystemPoolMember), col(SystemPoolMember.system_id) == col(System.id)),
        )

    @cached_property
    def latest_measurement_by_device(self) -> DataLoader[uuid.UUID, RowT | None]:
        return Loader(partial(_latest_measurements, self._reader))

    @cached_property
    def charging_session(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._by_id(ChargingSession)

    @cached_property
    def optimization_run(self) -> DataLoader[uuid.UUID, StoredRun | None]:
        return self._parsed_by_id(OptimizationRun, parse_run)

    @cached_property
    def sessions_by_site(self) -> DataLoader[ChildKey, Page]:
        return self._paged(ChargingSession, col(ChargingSession.site_id), [col(ChargingSession.started_at).desc()])

    @cached_property
    def session_energy_delivered(self) -> DataLoader[uuid.UUID, float]:
        reader = self._reader

        async def load(ids: list[uuid.UUID]) -> list[float]:
            found = {row.id: float(row.wh) for row in await reader.fetch(delivered_statement(ids))}
            return [found.get(i, 0.0) for i in ids]

        return Loader(load)

    @cached_property
    def open_session_by_device(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._one_by(ChargingSession, col(ChargingSession.device_id), col(ChargingSession.state) != "Ended")

    @cached_property
    def latest_run_by_site(self) -> DataLoader[uuid.UUID, StoredRun | None]:
        return Loader(partial(_latest_runs, self._reader))

    @cached_property
    def runs_by_site(self) -> DataLoader[ChildKey, Page]:
        """Pages of parsed runs (`StoredRun`)."""
        return self._paged(
            OptimizationRun, col(OptimizationRun.site_id), [col(OptimizationRun.created_at).desc()], parse=parse_run
        )

    @cached_property
    def configuration_by_site(self) -> DataLoader[uuid.UUID, RowT | None]:
        return self._one_by(OptimizationConfiguration, col(OptimizationConfiguration.site_id))

    @cached_property
    def prices_by_site(self) -> DataLoader[SpanKey, list[RowT]]:
        return self._series(PricePoint, col(PricePoint.site_id))

    @cached_property
    def external_limits_by_site(self) -> DataLoader[SpanKey, list[RowT]]:
        return self._series(ExternalLimit, col(ExternalLimit.site_id))

    @cached_property
    def forecast_by_device(self) -> DataLoader[SpanKey, list[RowT]]:
        return self._series(ForecastPoint, col(ForecastPoint.device_id))

    @cached_property
    def device_measurements(self) -> DataLoader[PeriodKey, list[DeviceBucket]]:
        return self._per_period(partial(device_buckets, self._db.engine))

    @cached_property
    def system_measurements(self) -> DataLoader[PeriodKey, list[SystemBucket]]:
        return self._per_period(partial(system_buckets, self._db.engine))

    @cached_property
    def pool_measurements(self) -> DataLoader[PeriodKey, list[SystemBucket]]:
        return self._per_period(partial(system_buckets, self._db.engine, pools=True))

    @cached_property
    def devices_by_cluster(self) -> DataLoader[ChildKey, Page]:
        return self._paged(
            Device,
            col(ClusterDevice.cluster_id),
            [col(Device.name)],
            source=table_of(Device).join(table_of(ClusterDevice), col(ClusterDevice.device_id) == col(Device.id)),
        )

    @cached_property
    def systems_by_pool(self) -> DataLoader[ChildKey, Page]:
        return self._paged(
            System,
            col(SystemPoolMember.pool_id),
            [col(System.name)],
            source=table_of(System).join(table_of(SystemPoolMember), col(SystemPoolMember.system_id) == col(System.id)),
        )

    @cached_property
    def pools_by_system(self) -> DataLoader[ChildKey, Page]:
        return self._paged(
            SystemPool,
            col(SystemPoolMember.system_id),
            [col(SystemPool.name)],
            source=table_of(SystemPool).join(
                table_of(SystemPoolMember), col(SystemPoolMember.pool_id) == col(SystemPool.id)
            ),
        )


async def _upstream_statuses(reader: Reader, site_ids: list[uuid.UUID]) -> list[str | None]:
    principal = reader.principal

    def build() -> Any:
        status = func.upstream_status(col(Site.id), func.now()).label("status")
        return select(col(Site.id), status).where(
            statements.among_ids(col(Site.id)), statements.subtree(principal, Site)
        )

    statement = statements.shaped(("upstream_status", principal is None), build)
    rows = await reader.fetch(statement, **{statements.IDS: site_ids})
    found = {row.id: row.status for row in rows}
    return [found.get(i) for i in site_ids]


async def _latest_measurements(reader: Reader, device_ids: list[uuid.UUID]) -> list[RowT | None]:
    """The newest point per device, in one statement (`newest_measurements`)."""
    rows = await reader.fetch(newest_measurements(device_ids))
    found = {row.device_id: row for row in rows}
    return [found.get(i) for i in device_ids]


async def _latest_runs(reader: Reader, site_ids: list[uuid.UUID]) -> list[StoredRun | None]:
    principal = reader.principal

    def build() -> Any:
        return (
            select(table_of(OptimizationRun))
            .ext(distinct_on(col(OptimizationRun.site_id)))
            .where(statements.among_ids(col(OptimizationRun.site_id)), statements.subtree(principal, OptimizationRun))
            .order_by(col(OptimizationRun.site_id), col(OptimizationRun.created_at).desc())
        )

    statement = statements.shaped(("latest_run", principal is None), build)
    rows = await reader.fetch(statement, **{statements.IDS: site_ids})
    found = {row.site_id: parse_run(row) for row in rows}
    return [found.get(i) for i in site_ids]


async def _device_counts(reader: Reader, site_ids: list[uuid.UUID]) -> list[dict[str, int]]:
    principal = reader.principal

    def build() -> Any:
        return (
            select(col(Device.site_id), col(Device.type), func.count().label("n"))
            .where(statements.among_ids(col(Device.site_id)), statements.subtree(principal, Device))
            .group_by(col(Device.site_id), col(Device.type))
        )

    statement = statements.shaped(("device_counts", principal is None), build)
    rows = await reader.fetch(statement, **{statements.IDS: site_ids})
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row.site_id][row.type] = row.n
    return [counts.get(i, {}) for i in site_ids]
