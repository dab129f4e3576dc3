"""Per-request DataLoaders: one SQL statement per loader per level of a query, tenancy in every statement.

Three shapes cover every relation of the inventory:
- by id (`node(id:)`, parents): rows or `None`;
- one row by a foreign key (a system's gateway, a site's main collector);
- a page of children per parent, for connections: one statement for all parents of a level, using
  `row_number()` and `count(*)` windows partitioned by parent, so `totalCount` costs nothing extra.
Rows are SQLAlchemy `Row`s (attribute access, no ORM hydration); the GraphQL types are built from them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    FromClause,
    Row,
    Table,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import distinct_on
from strawberry.dataloader import DataLoader

from app.auth import Principal
from app.database import Database
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
from resolvers.connection import Page, Window

RowT = Row[Any]


LIVE_CONSTRAINT = DeviceConstraint.invalid_at > func.now()
BY_PRIORITY = [DeviceConstraint.priority.desc(), DeviceConstraint.created_at.desc()]


@dataclass(frozen=True)
class ChildKey:
    parent_id: uuid.UUID
    window: Window


@dataclass(frozen=True)
class SpanKey:
    """The points of one owner's step series with `start <= ts < end`."""

    owner_id: uuid.UUID
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PeriodKey:
    owner_id: uuid.UUID
    period: Period


def table_of(model: Any) -> Table:
    return model.__table__


class Loaders:
    """Created fresh for every request (and every subscription event), so nothing is cached across them."""

    def __init__(self, db: Database, principal: Principal | None) -> None:
        """Loaders are made on first use: a request or subscription event pays only for those it needs."""
        self._db = db
        self._principal = principal

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

    def owned(self, model: Any) -> ColumnElement[bool]:
        """The tenancy condition for `model`'s rows; no principal sees nothing."""
        if self._principal is None:
            return false()
        if model is Account:
            return Account.path.startswith(self._principal.account_path)
        if model in (PricePoint, ExternalLimit, OptimizationConfiguration):
            return model.site_id.in_(select(Site.id).where(self._principal.owns(Site.account_id)))
        if model is ForecastPoint:
            return model.device_id.in_(select(Device.id).where(self._principal.owns(Device.account_id)))
        return self._principal.owns(model.account_id)

    async def root_page(
        self, model: Any, window: Window, order_by: Sequence[Any], *conditions: ColumnElement[bool]
    ) -> Page:
        """A top-level list (everything of a kind in the caller's subtree) in one statement."""
        table = table_of(model)
        inner = (
            select(
                table,
                func.row_number().over(order_by=[*order_by, table.c.id]).label("pw_rn"),
                func.count(literal_column("*")).over().label("pw_total"),
            )
            .where(self.owned(model), *conditions)
            .subquery()
        )
        in_window = inner.c.pw_rn.between(window.offset + 1, window.offset + window.first)
        rows = await self._db.fetch(select(inner).where(or_(in_window, inner.c.pw_rn == 1)).order_by(inner.c.pw_rn))
        total = rows[0].pw_total if rows else 0
        return Page([r for r in rows if window.offset < r.pw_rn <= window.offset + window.first], total)

    def _by_id(self, model: Any, *conditions: ColumnElement[bool]) -> DataLoader[uuid.UUID, RowT | None]:
        table = table_of(model)

        async def load(ids: list[uuid.UUID]) -> list[RowT | None]:
            rows = await self._db.fetch(select(table).where(table.c.id.in_(ids), self.owned(model), *conditions))
            found = {row.id: row for row in rows}
            return [found.get(i) for i in ids]

        return DataLoader(load)

    def _one_by(self, model: Any, key: Any, *conditions: ColumnElement[bool]) -> DataLoader[uuid.UUID, RowT | None]:
        table = table_of(model)

        async def load(keys: list[uuid.UUID]) -> list[RowT | None]:
            rows = await self._db.fetch(
                select(table, key.label("pw_key")).where(key.in_(keys), self.owned(model), *conditions)
            )
            found = {row.pw_key: row for row in rows}
            return [found.get(k) for k in keys]

        return DataLoader(load)

    def _all_by(
        self,
        model: Any,
        key: Any,
        order_by: Sequence[Any],
        *conditions: ColumnElement[bool],
        source: FromClause | None = None,
    ) -> DataLoader[uuid.UUID, list[RowT]]:
        """Every child of each parent (for small, bounded lists that are summed rather than paged)."""
        table = table_of(model)

        async def load(keys: list[uuid.UUID]) -> list[list[RowT]]:
            rows = await self._db.fetch(
                select(table, key.label("pw_key"))
                .select_from(source if source is not None else table)
                .where(key.in_(keys), self.owned(model), *conditions)
                .order_by(*order_by)
            )
            grouped: dict[uuid.UUID, list[RowT]] = defaultdict(list)
            for row in rows:
                grouped[row.pw_key].append(row)
            return [grouped.get(k, []) for k in keys]

        return DataLoader(load)

    def _paged(
        self,
        model: Any,
        parent: Any,
        order_by: Sequence[Any],
        *conditions: ColumnElement[bool],
        source: FromClause | None = None,
    ) -> DataLoader[ChildKey, Page]:
        table = table_of(model)

        async def load(keys: list[ChildKey]) -> list[Page]:
            by_window: dict[Window, set[uuid.UUID]] = defaultdict(set)
            for key in keys:
                by_window[key.window].add(key.parent_id)
            pages: dict[ChildKey, Page] = {}
            for window, parents in by_window.items():
                rows = await self._db.fetch(
                    self._page_statement(table, model, parent, order_by, conditions, source, window, parents)
                )
                pages.update(_split_pages(rows, window))
            return [pages.get(key, Page([], 0)) for key in keys]

        return DataLoader(load, cache_key_fn=lambda key: key)

    def _page_statement(
        self,
        table: Table,
        model: Any,
        parent: Any,
        order_by: Sequence[Any],
        conditions: Sequence[ColumnElement[bool]],
        source: FromClause | None,
        window: Window,
        parents: set[uuid.UUID],
    ) -> Any:
        inner = (
            select(
                table,
                parent.label("pw_parent"),
                func.row_number().over(partition_by=parent, order_by=[*order_by, table.c.id]).label("pw_rn"),
                func.count(literal_column("*")).over(partition_by=parent).label("pw_total"),
            )
            .select_from(source if source is not None else table)
            .where(parent.in_(parents), self.owned(model), *conditions)
            .subquery()
        )
        # Row 1 always comes along to carry the total, even for a window past the end of the list.
        in_window = inner.c.pw_rn.between(window.offset + 1, window.offset + window.first)
        return select(inner).where(or_(in_window, inner.c.pw_rn == 1)).order_by(inner.c.pw_parent, inner.c.pw_rn)

    async def _load_upstream_status(self, site_ids: list[uuid.UUID]) -> list[str | None]:
        rows = await self._db.fetch(
            select(Site.id, func.upstream_status(Site.id, func.now()).label("status")).where(
                Site.id.in_(site_ids), self.owned(Site)
            )
        )
        found = {row.id: row.status for row in rows}
        return [found.get(i) for i in site_ids]

    def _series(self, model: Any, key: Any) -> DataLoader[SpanKey, list[RowT]]:
        table = table_of(model)

        async def load(keys: list[SpanKey]) -> list[list[RowT]]:
            spans: dict[tuple[datetime, datetime], list[uuid.UUID]] = defaultdict(list)
            for k in keys:
                spans[(k.start, k.end)].append(k.owner_id)
            found: dict[SpanKey, list[RowT]] = defaultdict(list)
            for (start, end), owners in spans.items():
                rows = await self._db.fetch(
                    select(table, key.label("pw_key"))
                    .where(key.in_(owners), self.owned(model), model.ts >= start, model.ts < end)
                    .order_by(*[c for c in table.primary_key.columns])
                )
                for row in rows:
                    found[SpanKey(row.pw_key, start, end)].append(row)
            return [found.get(k, []) for k in keys]

        return DataLoader(load, cache_key_fn=lambda k: k)

    def _per_period(
        self, load_group: Callable[[Period, list[uuid.UUID]], Awaitable[dict[uuid.UUID, Any]]]
    ) -> DataLoader[PeriodKey, Any]:
        """Aggregations: one statement per distinct period asked for at this level of the query."""

        async def load(keys: list[PeriodKey]) -> list[Any]:
            by_period: dict[Period, list[uuid.UUID]] = defaultdict(list)
            for key in keys:
                by_period[key.period].append(key.owner_id)
            found: dict[PeriodKey, Any] = {}
            for period, owners in by_period.items():
                for owner, value in (await load_group(period, owners)).items():
                    found[PeriodKey(owner, period)] = value
            return [found[key] for key in keys]

        return DataLoader(load, cache_key_fn=lambda key: key)

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


def _split_pages(rows: list[RowT], window: Window) -> dict[ChildKey, Page]:
    grouped: dict[uuid.UUID, list[RowT]] = defaultdict(list)
    totals: dict[uuid.UUID, int] = {}
    for row in rows:
        totals[row.pw_parent] = row.pw_total
        if window.offset < row.pw_rn <= window.offset + window.first:
            grouped[row.pw_parent].append(row)
    return {ChildKey(p, window): Page(grouped.get(p, []), total) for p, total in totals.items()}
