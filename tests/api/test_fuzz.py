"""Schema-driven fuzzing over HTTP: no answer is a 5xx or "Unexpected error."."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.api.helpers import demo_devices, demo_document
from tests.fuzzing import fuzz


async def test_fuzzed_queries_and_mutations_get_coded_answers(api: Api, tenant_a) -> None:
    system_id, site_id, devices = await demo_devices(api, tenant_a)
    ids = [tenant_a.account_id, system_id, site_id, *devices.values()]
    report = await fuzz(api.client, tenant_a.operator, ids, [demo_document()], examples=120, seconds=45)
    print(report.line())
    assert report.sent >= 20, report.line()
    assert not report.findings, "\n\n".join(f"{q}\n-> {a}" for q, a in report.findings[:5])
