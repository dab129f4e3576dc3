"""No N+1: the nested inventory query costs the same number of SQL statements for 1 and for 50 systems."""

from app.bootstrap import operator_of
from app.demo import DEMO_CONFIGURATION
from app.domain.grid_identifiers import make_valid_identifier
from app.models import Account
from app.services.sites import LocationInput, SupplyPointInput, create_site
from app.services.systems import create_cluster, create_pool, create_system
from app.services.topology import apply_site_configuration
from app.vocabulary import SupplyDirection

NESTED = """
query { viewer { account { name
  pools { nodes { name systems { totalCount } } }
  systems(first: 100) { totalCount nodes {
    name gateway { serialNumber model online }
    clusters { nodes { name devices { totalCount } children { totalCount } } }
    sites { nodes {
      name status upstreamStatus supplyPoints { gridIdentifier } validation { validForOptimization }
      mainCollector { name children { nodes { name devices { nodes { name } } } } devices { totalCount } }
      devices { totalCount nodes {
        name collector { name } site { name }
        ... on ChargingPole { pinToPhaseMapping { pinList phaseList } }
        ... on ForecastedSeries { forecastType }
        ... on Battery { policies { frequency } }
      } }
    } }
  } }
} } }"""


async def add_systems(db, account_id, count: int, offset: int) -> None:
    async with db.transaction() as session:
        account = await session.get(Account, account_id)
        operator = operator_of(account)
        system_ids = []
        for i in range(offset, offset + count):
            system = await create_system(
                session,
                operator,
                account_id=account.id,
                name=f"system {i:03d}",
                gateway_serial_number=f"GW-{i:04d}",
                gateway_model="m",
            )
            system_ids.append(system.id)
            site = await create_site(
                session,
                operator,
                system_id=system.id,
                name=f"site {i:03d}",
                country="BE",
                supply_points=[
                    SupplyPointInput(make_valid_identifier("BE", f"541441{i:011d}"), SupplyDirection.BIDIRECTIONAL)
                ],
                location=LocationInput(address="somewhere"),
                timezone="Europe/Brussels",
            )
            await apply_site_configuration(session, operator, site.id, DEMO_CONFIGURATION)
            await create_cluster(session, operator, system_id=system.id, name="poles", parent_id=None, device_ids=[])
        await create_pool(session, operator, account_id=account.id, name=f"pool {offset}", system_ids=system_ids)


async def statements_for(api, app, token: str) -> tuple[int, dict]:
    with app.state.db.statements_sent() as statements:
        data = await api.ok(NESTED, token=token)
    return len(statements), data


async def test_the_same_statement_count_for_1_and_for_50_systems(api, app, tenant_a):
    import uuid

    from strawberry.relay import GlobalID

    account_id = uuid.UUID(GlobalID.from_id(tenant_a.account_id).node_id)
    await add_systems(app.state.db, account_id, 1, 0)
    one, data_one = await statements_for(api, app, tenant_a.viewer)
    await add_systems(app.state.db, account_id, 49, 1)
    fifty, data_fifty = await statements_for(api, app, tenant_a.viewer)
    assert one == fifty, (one, fifty)
    account_one, account_fifty = data_one["viewer"]["account"], data_fifty["viewer"]["account"]
    assert len(account_one["pools"]["nodes"]) == 1 and len(account_fifty["pools"]["nodes"]) == 2
    assert account_one["systems"]["totalCount"] == 1 and account_fifty["systems"]["totalCount"] == 50
    assert len(account_fifty["systems"]["nodes"]) == 50
    site = account_fifty["systems"]["nodes"][49]["sites"]["nodes"][0]
    assert site["devices"]["totalCount"] == 7 and len(site["mainCollector"]["children"]["nodes"]) == 2
    assert one <= 25
