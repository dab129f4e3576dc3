"""Kept loader statements read straight through asyncpg: the same rows, values and types as through SQLAlchemy."""

from __future__ import annotations

import uuid

from sqlalchemy import Numeric, cast, event, select
from strawberry.relay import GlobalID

from app.auth import Principal, Role
from app.driver_reads import driver_statement
from app.models import Collector, Device, table_of
from resolvers import statements
from tests.api.helpers import demo_devices


def _pk(global_id: str) -> uuid.UUID:
    return uuid.UUID(GlobalID.from_id(global_id).node_id)


async def test_kept_statements_read_the_same_rows_through_asyncpg_as_through_sqlalchemy(app, api, tenant_a):
    _, site_id, devices = await demo_devices(api, tenant_a)
    db = app.state.db
    account = await db.fetch_row("SELECT id, path FROM account WHERE id = $1", _pk(tenant_a.account_id))
    collector = await db.fetch_row("SELECT id FROM collector WHERE site_id = $1 LIMIT 1", _pk(site_id))
    principal = Principal("user", uuid.uuid4(), account["id"], account["path"], Role.VIEWER)
    table = table_of(Device)
    page = statements.child_page(principal, table, Device, table.c.site_id, [table.c.name], [], None)
    by_id = statements.by_key(principal, table_of(Collector), Collector, None, [])
    reads = [
        (page, statements.params(principal, pw_ids=[_pk(site_id)], pw_low=1, pw_high=50)),
        (by_id, statements.params(principal, pw_ids=[collector["id"], uuid.uuid4()])),
    ]
    for statement, params in reads:
        assert driver_statement(statement, db.engine.dialect) is not None
        through_driver = await db.records(statement, params, kept=True)
        through_sqlalchemy = await db.records(statement, params)
        assert through_driver and through_driver == through_sqlalchemy
        for ours, theirs in zip(through_driver, through_sqlalchemy, strict=True):
            assert type(ours) is type(theirs) and ours._fields == theirs._fields
            for a, b in zip(ours, theirs, strict=True):
                assert a == b and (a is None) == (b is None)
                if isinstance(b, uuid.UUID):  # asyncpg's own UUID: a uuid.UUID that hashes and prints alike
                    assert isinstance(a, uuid.UUID) and hash(a) == hash(b) and str(a) == str(b)
                else:
                    assert type(a) is type(b)
    assert len(await db.records(page, reads[0][1], kept=True)) == len(devices)


async def test_statements_sqlalchemy_would_change_stay_with_sqlalchemy(app):
    dialect = app.state.db.engine.dialect
    expanding = select(Device.__table__).where(Device.__table__.c.id.in_([uuid.uuid4(), uuid.uuid4()]))
    decimal = select(cast(Device.__table__.c.maximum_power, Numeric(10, 2)))
    assert driver_statement(expanding, dialect) is None
    assert driver_statement(decimal, dialect) is None


async def test_a_column_name_no_named_tuple_can_carry_stays_with_sqlalchemy(app):
    db = app.state.db
    statement = select(Device.__table__.c.name.label("_hidden"))
    assert driver_statement(statement, db.engine.dialect) is None
    assert await db.records(statement, kept=True) == await db.records(statement)


INVENTORY = """{
  sites { nodes {
    name gridIdentifier status upstreamStatus validation { validForOptimization missing { code message } }
    mainCollector { name lineCurrent children { nodes { name phaseType phasePermutations { childPhase } } } }
    devices { nodes { __typename name collector { name } ... on ChargingPole { pinToPhaseMapping { pinList } } } }
  } }
}"""


async def test_an_inventory_request_compiles_no_statement_of_its_own(app, api, tenant_a):
    """Every read of the README's inventory (pages, relations, statuses, device counts) is a kept statement: none
    is built and compiled by SQLAlchemy per request (that cost more CPU than the rest of the request)."""
    await demo_devices(api, tenant_a)
    db = app.state.db
    compiled: list[str] = []

    def through_sqlalchemy(*args: object) -> None:
        compiled.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", through_sqlalchemy)
    try:
        with db.statements_sent() as sent:
            data = await api.ok(INVENTORY, token=tenant_a.viewer)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", through_sqlalchemy)
    assert data["sites"]["nodes"][0]["devices"]["nodes"]
    assert len(sent) >= 6
    assert compiled == []
