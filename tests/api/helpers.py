"""GraphQL snippets the API tests share."""

from __future__ import annotations

import copy
from typing import Any

from app.demo import DEMO_CONFIGURATION
from app.domain.grid_identifiers import make_valid_identifier

CREATE_SYSTEM = """
mutation($input: CreateSystemInput!) {
  createSystem(input: $input) { system { id name gateway { serialNumber } } errors { code field message } }
}"""

CREATE_SITE = """
mutation($input: CreateSiteInput!) {
  createSite(input: $input) {
    site { id name country gridIdentifier status upstreamStatus supplyPoints { gridIdentifier direction } }
    errors { code field message }
  }
}"""

APPLY = """
mutation($site: ID!, $doc: JSON!) {
  applySiteConfiguration(siteId: $site, document: $doc) {
    site { id status validation { validForOptimization missing { code } } }
    errors { code field message }
  }
}"""

SITE_STATE = """
query($id: ID!) {
  node(id: $id) {
    ... on Site {
      status
      collectors(first: 100) { totalCount nodes { name lineCurrent phaseType phase parent { name }
        phasePermutations { childPhase parentPhase } } }
      devices(first: 100) { totalCount nodes { name type collector { name }
        ... on ChargingPole { pinToPhaseMapping { pinList phaseList } } } }
    }
  }
}"""


def demo_document() -> dict[str, Any]:
    return copy.deepcopy(DEMO_CONFIGURATION)


async def create_system(
    api: Any, token: str, account_id: str, name: str = "Installation", serial: str | None = None
) -> str:
    gateway = {"serialNumber": serial} if serial else None
    data = await api.ok(CREATE_SYSTEM, {"input": {"accountId": account_id, "name": name, "gateway": gateway}}, token)
    return data["createSystem"]["system"]["id"]


def ean(body: str = "54144100000000123") -> str:
    return make_valid_identifier("BE", body)


async def create_site(
    api: Any,
    token: str,
    system_id: str,
    *,
    name: str = "Site",
    country: str = "BE",
    identifier: str | None = None,
) -> dict[str, Any]:
    data = await api.ok(
        CREATE_SITE,
        {
            "input": {
                "systemId": system_id,
                "name": name,
                "country": country,
                "supplyPoints": [{"gridIdentifier": identifier or ean(), "direction": "BIDIRECTIONAL"}],
                "location": {"address": "Dok Noord 7, Gent"},
                "timezone": "Europe/Brussels",
            }
        },
        token,
    )
    return data["createSite"]["site"]


async def site_with_topology(
    api: Any, token: str, account_id: str, *, identifier: str | None = None
) -> tuple[str, str]:
    system_id = await create_system(api, token, account_id)
    site = await create_site(api, token, system_id, identifier=identifier)
    await api.ok(APPLY, {"site": site["id"], "doc": demo_document()}, token)
    return system_id, site["id"]


async def demo_devices(api: Any, tenant: Any) -> tuple[str, str, dict[str, str]]:
    """(system id, site id, device ids by name) of a fresh demo site of `tenant`."""
    system_id, site_id = await site_with_topology(api, tenant.operator, tenant.account_id)
    query = "query($id: ID!) { node(id: $id) { ... on Site { devices { nodes { id name } } } } }"
    nodes = (await api.ok(query, {"id": site_id}, tenant.viewer))["node"]["devices"]["nodes"]
    return system_id, site_id, {n["name"]: n["id"] for n in nodes}
