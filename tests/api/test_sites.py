"""Creating sites per country, grid identifier rules, supply points, and the upstream status walk."""

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.grid_identifiers import make_valid_identifier
from tests.api.helpers import CREATE_SITE, create_site, create_system, ean

BODIES = {
    "BE": "54144100000000123",
    "NL": "87171234567890123",
    "LU": "54300000000000123",
    "FR": "12345678901234",
    "GB": "123456789012",
    "IE": "10012345678",
    "IT": "00112345678",
    "ES": "0021000000000001",
}


def _site_input(system_id: str, country: str, identifier: str, direction: str = "BIDIRECTIONAL") -> dict:
    return {
        "input": {
            "systemId": system_id,
            "name": f"site {country}",
            "country": country,
            "supplyPoints": [{"gridIdentifier": identifier, "direction": direction}],
            "location": {"latitude": 50.85, "longitude": 4.35},
            "timezone": "Europe/Brussels",
        }
    }


@pytest.mark.parametrize("country", sorted(BODIES))
async def test_a_site_per_country_identifier_is_created(api, tenant_a, country):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    identifier = make_valid_identifier(country, BODIES[country])
    data = await api.ok(CREATE_SITE, _site_input(system_id, country, identifier), tenant_a.operator)
    site = data["createSite"]["site"]
    assert (site["country"], site["gridIdentifier"], site["status"]) == (country, identifier, "NO_RESOURCES")


@pytest.mark.parametrize("country", ["BE", "NL", "LU", "GB", "ES"])
async def test_a_wrong_check_digit_is_refused_naming_the_rule(api, tenant_a, country):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    good = make_valid_identifier(country, BODIES[country])
    last = good[-1]
    wrong = good[:-1] + (("0" if last != "0" else "1") if last.isdigit() else ("A" if last != "A" else "B"))
    body = await api.post(CREATE_SITE, _site_input(system_id, country, wrong), tenant_a.operator)
    payload = body["data"]["createSite"]
    assert payload["site"] is None
    (error,) = payload["errors"]
    assert error["code"] == "INVALID_CHECK_DIGIT"
    assert error["field"] == "supplyPoints[0].gridIdentifier"
    assert "should be" in error["message"]  # names the expected check characters and the rule
    sites = await api.ok("{ sites { totalCount } }", token=tenant_a.viewer)
    assert sites["sites"]["totalCount"] == 0


async def test_wrong_shapes_and_supply_point_mixes_are_refused(api, tenant_a):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    short = await api.post(CREATE_SITE, _site_input(system_id, "FR", "1234"), tenant_a.operator)
    assert short["data"]["createSite"]["errors"][0]["code"] == "INVALID_FORMAT"
    unsupported = await api.post(CREATE_SITE, _site_input(system_id, "DE", "DE0001"), tenant_a.operator)
    assert unsupported["data"]["createSite"]["errors"][0]["code"] == "UNSUPPORTED"
    two_injections = _site_input(system_id, "BE", ean(), "INJECTION")
    two_injections["input"]["supplyPoints"].append(
        {"gridIdentifier": ean("54144100000000999"), "direction": "INJECTION"}
    )
    mix = await api.post(CREATE_SITE, two_injections, tenant_a.operator)
    assert mix["data"]["createSite"]["errors"][0]["field"] == "supplyPoints"
    offtake_injection = _site_input(system_id, "BE", ean(), "OFFTAKE")
    offtake_injection["input"]["supplyPoints"].append(
        {"gridIdentifier": ean("54144100000000999"), "direction": "INJECTION"}
    )
    ok = await api.ok(CREATE_SITE, offtake_injection, tenant_a.operator)
    assert ok["createSite"]["site"]["gridIdentifier"] == ean()
    taken = await api.post(CREATE_SITE, _site_input(system_id, "BE", ean("54144100000000999")), tenant_a.operator)
    assert taken["data"]["createSite"]["errors"] == [
        {
            "code": "DUPLICATE",
            "field": "supplyPoints[0].gridIdentifier",
            "message": "this grid identifier belongs to another site",
        }
    ]
    bad_place = _site_input(system_id, "BE", ean("54144100000000555"))
    bad_place["input"]["location"] = {"latitude": 95, "longitude": 4}
    bad_place["input"]["timezone"] = "Mars/Olympus"
    refused = await api.post(CREATE_SITE, bad_place, tenant_a.operator)
    assert {e["field"] for e in refused["data"]["createSite"]["errors"]} == {"location.latitude", "timezone"}


UPSTREAM = """
mutation($i: CreateUpstreamSiteInput!) { createUpstreamSite(input: $i) { upstreamSite { id } errors { message } } }"""
CONTRACT = """
mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } errors { field message } } }"""
UPDATE_CONTRACT = """
mutation($id: ID!, $i: UpdateContractInput!) { updateContract(id: $id, input: $i) { contract { id } errors { message } } }"""


async def test_upstream_status_walks_through_all_six_values(api, tenant_a, supplier):
    system_id = await create_system(api, tenant_a.operator, tenant_a.account_id)
    site = await create_site(api, tenant_a.operator, system_id)

    async def status() -> str:
        data = await api.ok(
            "query($id: ID!) { node(id: $id) { ... on Site { upstreamStatus } } }",
            {"id": site["id"]},
            tenant_a.viewer,
        )
        filtered = await api.ok(
            f"{{ sites(upstreamStatus: {data['node']['upstreamStatus']}) {{ nodes {{ id }} }} }}",
            token=tenant_a.viewer,
        )
        assert filtered["sites"]["nodes"] == [{"id": site["id"]}]
        return data["node"]["upstreamStatus"]

    assert await status() == "NO_UPSTREAM_REGISTERED"
    # The supplier is another tenant: matching crosses accounts, only the status is shared.
    upstream = await api.ok(
        UPSTREAM,
        {
            "i": {
                "accountId": supplier.account_id,
                "country": "BE",
                "gridIdentifier": ean(),
                "supplier": "Bravo Energy",
            }
        },
        supplier.operator,
    )
    upstream_id = upstream["createUpstreamSite"]["upstreamSite"]["id"]
    assert await status() == "NO_CONTRACT"
    now = datetime.now(UTC)
    contract = await api.ok(
        CONTRACT,
        {"i": {"upstreamSiteId": upstream_id, "startAt": (now + timedelta(days=2)).isoformat()}},
        supplier.operator,
    )
    contract_id = contract["createContract"]["contract"]["id"]
    assert await status() == "CONTRACT_NEEDS_AGREEMENT"
    await api.ok(UPDATE_CONTRACT, {"id": contract_id, "i": {"agreed": True}}, supplier.operator)
    assert await status() == "CONTRACT_PENDING"
    await api.ok(
        UPDATE_CONTRACT,
        {"id": contract_id, "i": {"startAt": (now - timedelta(days=2)).isoformat()}},
        supplier.operator,
    )
    assert await status() == "CONTRACT_ACTIVE"
    await api.ok(
        UPDATE_CONTRACT,
        {"id": contract_id, "i": {"endAt": (now - timedelta(hours=1)).isoformat()}},
        supplier.operator,
    )
    assert await status() == "CONTRACT_INACTIVE"
    backwards = await api.post(
        UPDATE_CONTRACT,
        {"id": contract_id, "i": {"endAt": (now - timedelta(days=3)).isoformat()}},
        supplier.operator,
    )
    assert backwards["data"]["updateContract"]["errors"][0]["message"] == "must lie after startAt"
