"""Per-request DataLoaders: one SQL statement per loader per level of a query, tenancy in every statement.

Each relation of the schema names its loader here, built from a shape of `resolvers.loader_kinds`. They are
made on first use and fresh for every request (and every subscription event): nothing is cached across.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from functools import cached_property
from typing import Any

from sqlalchemy import ARRAY, cast, func, select, true
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import distinct_on
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
    Measurement,
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
)
from app.services.aggregation import DeviceBucket, Period, SystemBucket, device_buckets, system_buckets
from resolvers.loader_kinds import ChildKey, LoaderKinds, PeriodKey, RowT, SpanKey, table_of

__all__ = ["ChildKey", "Loaders", "PeriodKey", "RowT", "SpanKey"]

LIVE_CONSTRAINT = DeviceConstraint.invalid_at > func.now()
BY_PRIORITY = [DeviceConstraint.priority.desc(), DeviceConstraint.created_at.desc()]


class Loaders(LoaderKinds):
    @cached_property
    def account(self) -> Any:
        return self._by_id(Account)

    @cached_property
    def user(self) -> Any:
        return self._by_id(User)

    @cached_property
    def api_key(self) -> Any:
        return self._by_id(ApiKey)

    @cached_property
    def system(self) -> Any:
        return self._by_id(System)

    @cached_property
    def gateway(self) -> Any:
        return self._by_id(Gateway)

    @cached_property
    def system_pool(self) -> Any:
        return self._by_id(SystemPool)

    @cached_property
    def cluster(self) -> Any:
        return self._by_id(Cluster)

    @cached_property
    def site(self) -> Any:
        return self._by_id(Site, Site.deleted_at.is_(None))

    @cached_property
    def upstream_site(self) -> Any:
        return self._by_id(UpstreamSite)

    @cached_property
    def contract(self) -> Any:
        return self._by_id(Contract)

    @cached_property
    def collector(self) -> Any:
        return self._by_id(Collector)

    @cached_property
    def device(self) -> Any:
        return self._by_id(Device)

    @cached_property
    def constraint(self) -> Any:
        return self._by_id(DeviceConstraint)

    @cached_property
    def gateway_by_system(self) -> Any:
        return self._one_by(Gateway, Gateway.system_id)

    @cached_property
    def ocpp_station_by_device(self) -> Any:
        return self._one_by(OcppStation, OcppStation.device_id)

    @cached_property
    def main_collector_by_site(self) -> Any:
        return self._one_by(Collector, Collector.site_id, Collector.parent_id.is_(None))

    @cached_property
    def supply_points_by_site(self) -> Any:
        return self._all_by(SupplyPoint, SupplyPoint.site_id, order_by=[SupplyPoint.position])

    @cached_property
    def upstream_status_by_site(self) -> Any:
        return DataLoader(self._load_upstream_status)

    @cached_property
    def device_counts_by_site(self) -> Any:
        return DataLoader(self._load_device_counts)

    @cached_property
    def accounts_by_parent(self) -> Any:
        return self._paged(Account, Account.parent_id, [Account.name])

    @cached_property
    def users_by_account(self) -> Any:
        return self._paged(User, User.account_id, [User.email])

    @cached_property
    def api_keys_by_account(self) -> Any:
        return self._paged(ApiKey, ApiKey.account_id, [ApiKey.name])

    @cached_property
    def systems_by_account(self) -> Any:
        return self._paged(System, System.account_id, [System.name])

    @cached_property
    def pools_by_account(self) -> Any:
        return self._paged(SystemPool, SystemPool.account_id, [SystemPool.name])

    @cached_property
    def upstream_sites_by_account(self) -> Any:
        return self._paged(UpstreamSite, UpstreamSite.account_id, [UpstreamSite.grid_identifier])

    @cached_property
    def sites_by_system(self) -> Any:
        return self._paged(Site, Site.system_id, [Site.name], Site.deleted_at.is_(None))

    @cached_property
    def clusters_by_system(self) -> Any:
        return self._paged(Cluster, Cluster.system_id, [Cluster.name], Cluster.parent_id.is_(None))

    @cached_property
    def devices_by_system(self) -> Any:
        return self._paged(Device, Device.system_id, [Device.name])

    @cached_property
    def collectors_by_site(self) -> Any:
        return self._paged(Collector, Collector.site_id, [Collector.position, Collector.name])

    @cached_property
    def devices_by_site(self) -> Any:
        return self._paged(Device, Device.site_id, [Device.position, Device.name])

    @cached_property
    def collectors_by_parent(self) -> Any:
        return self._paged(Collector, Collector.parent_id, [Collector.position, Collector.name])

    @cached_property
    def devices_by_collector(self) -> Any:
        return self._paged(Device, Device.collector_id, [Device.position, Device.name])

    @cached_property
    def clusters_by_parent(self) -> Any:
        return self._paged(Cluster, Cluster.parent_id, [Cluster.name])

    @cached_property
    def contracts_by_upstream_site(self) -> Any:
        return self._paged(Contract, Contract.upstream_site_id, [Contract.start_at])

    @cached_property
    def constraints_by_device(self) -> Any:
        return self._paged(DeviceConstraint, DeviceConstraint.device_id, BY_PRIORITY, LIVE_CONSTRAINT)

    @cached_property
    def constraints_by_cluster(self) -> Any:
        return self._paged(
            DeviceConstraint,
            ClusterDevice.cluster_id,
            BY_PRIORITY,
            LIVE_CONSTRAINT,
            source=table_of(DeviceConstraint).join(
                table_of(ClusterDevice), ClusterDevice.device_id == DeviceConstraint.device_id
            ),
        )

    @cached_property
    def live_constraints_by_device(self) -> Any:
        return self._all_by(DeviceConstraint, DeviceConstraint.device_id, BY_PRIORITY, LIVE_CONSTRAINT)

    @cached_property
    def all_devices_by_system(self) -> Any:
        return self._all_by(Device, Device.system_id, [Device.name])

    @cached_property
    def all_systems_by_pool(self) -> Any:
        return self._all_by(
            System,
            SystemPoolMember.pool_id,
            [System.name],
            source=table_of(System).join(table_of(SystemPoolMember), SystemPoolMember.system_id == System.id),
        )

    @cached_property
    def latest_measurement_by_device(self) -> Any:
        return DataLoader(self._load_latest_measurements)

    @cached_property
    def charging_session(self) -> Any:
        return self._by_id(ChargingSession)

    @cached_property
    def optimization_run(self) -> Any:
        return self._by_id(OptimizationRun)

    @cached_property
    def sessions_by_site(self) -> Any:
        return self._paged(ChargingSession, ChargingSession.site_id, [ChargingSession.started_at.desc()])

    @cached_property
    def open_session_by_device(self) -> Any:
        return self._one_by(ChargingSession, ChargingSession.device_id, ChargingSession.state != "Ended")

    @cached_property
    def latest_run_by_site(self) -> Any:
        return DataLoader(self._load_latest_runs)

    @cached_property
    def runs_by_site(self) -> Any:
        return self._paged(OptimizationRun, OptimizationRun.site_id, [OptimizationRun.created_at.desc()])

    @cached_property
    def configuration_by_site(self) -> Any:
        return self._one_by(OptimizationConfiguration, OptimizationConfiguration.site_id)

    @cached_property
    def prices_by_site(self) -> Any:
        return self._series(PricePoint, PricePoint.site_id)

    @cached_property
    def external_limits_by_site(self) -> Any:
        return self._series(ExternalLimit, ExternalLimit.site_id)

    @cached_property
    def forecast_by_device(self) -> Any:
        return self._series(ForecastPoint, ForecastPoint.device_id)

    @cached_property
    def device_measurements(self) -> Any:
        return self._per_period(self._device_buckets)

    @cached_property
    def system_measurements(self) -> Any:
        return self._per_period(self._system_buckets)

    @cached_property
    def pool_measurements(self) -> Any:
        return self._per_period(self._pool_buckets)

    @cached_property
    def devices_by_cluster(self) -> Any:
        return self._paged(
            Device,
            ClusterDevice.cluster_id,
            [Device.name],
            source=table_of(Device).join(table_of(ClusterDevice), ClusterDevice.device_id == Device.id),
        )

    @cached_property
    def systems_by_pool(self) -> Any:
        return self._paged(
            System,
            SystemPoolMember.pool_id,
            [System.name],
            source=table_of(System).join(table_of(SystemPoolMember), SystemPoolMember.system_id == System.id),
        )

    @cached_property
    def pools_by_system(self) -> Any:
        return self._paged(
            SystemPool,
            SystemPoolMember.system_id,
            [SystemPool.name],
            source=table_of(SystemPool).join(table_of(SystemPoolMember), SystemPoolMember.pool_id == SystemPool.id),
        )

    async def _load_upstream_status(self, site_ids: list[uuid.UUID]) -> list[str | None]:
        rows = await self._db.fetch(
            select(Site.id, func.upstream_status(Site.id, func.now()).label("status")).where(
                Site.id.in_(site_ids), self.owned(Site)
            )
        )
        found = {row.id: row.status for row in rows}
        return [found.get(i) for i in site_ids]

    async def _device_buckets(self, period: Period, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DeviceBucket]]:
        return await device_buckets(self._db.engine, period, ids)

    async def _system_buckets(self, period: Period, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SystemBucket]]:
        return await system_buckets(self._db.engine, period, ids)

    async def _pool_buckets(self, period: Period, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SystemBucket]]:
        return await system_buckets(self._db.engine, period, ids, pools=True)

    async def _load_latest_measurements(self, device_ids: list[uuid.UUID]) -> list[RowT | None]:
        """The newest point per device: one index probe per device (LATERAL ... LIMIT 1), in one statement."""
        ids = select(func.unnest(cast(device_ids, ARRAY(PG_UUID(as_uuid=True)))).label("id")).subquery()
        newest = (
            select(Measurement)
            .where(Measurement.device_id == ids.c.id)
            .order_by(Measurement.ts.desc())
            .limit(1)
            .lateral()
        )
        rows = await self._db.fetch(select(newest).select_from(ids.join(newest, true())))
        found = {row.device_id: row for row in rows}
        return [found.get(i) for i in device_ids]

    async def _load_latest_runs(self, site_ids: list[uuid.UUID]) -> list[RowT | None]:
        table = table_of(OptimizationRun)
        rows = await self._db.fetch(
            select(table)
            .ext(distinct_on(OptimizationRun.site_id))
            .where(OptimizationRun.site_id.in_(site_ids), self.owned(OptimizationRun))
            .order_by(OptimizationRun.site_id, OptimizationRun.created_at.desc())
        )
        found = {row.site_id: row for row in rows}
        return [found.get(i) for i in site_ids]

    async def _load_device_counts(self, site_ids: list[uuid.UUID]) -> list[dict[str, int]]:
        rows = await self._db.fetch(
            select(Device.site_id, Device.type, func.count().label("n"))
            .where(Device.site_id.in_(site_ids), self.owned(Device))
            .group_by(Device.site_id, Device.type)
        )
        counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
        for row in rows:
            counts[row.site_id][row.type] = row.n
        return [counts.get(i, {}) for i in site_ids]
