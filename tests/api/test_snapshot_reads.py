"""A run's reads are statements built once for the process: the same SQL whatever the site's size."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from strawberry.relay import GlobalID

from app.models import Site
from app.optimization.snapshot import read_site_inputs
from tests.api.helpers import APPLY, demo_document, site_with_topology


async def _reads(app, site_id: str) -> tuple[list[str], int]:
    """The SQL a run's snapshot sends for the site, and how many devices it read."""
    db = app.state.db
    async with db.session() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        site = await session.get(Site, uuid.UUID(GlobalID.from_id(site_id).node_id))
        assert site is not None
        with db.statements_sent() as sent:
            inputs = await read_site_inputs(session, site, datetime.now(UTC), timedelta(seconds=30))
    return sent, len(inputs.devices)


async def test_a_run_reads_a_larger_site_with_the_same_statements(app, api, tenant_a):
    """Reads that named every device in their SQL (`IN (...)`) were compiled again for each count of devices,
    and built again at every run; each is now built once, its ids bound as one array."""
    _, site_id = await site_with_topology(api, tenant_a.operator, tenant_a.account_id)
    small, small_devices = await _reads(app, site_id)
    document = copy.deepcopy(demo_document())
    pole = next(d for d in document["device_list"] if d["type"] == "charging_pole_3phase")
    for i in range(5):
        document["device_list"].append({**copy.deepcopy(pole), "name": f"extra_pole_{i}"})
    await api.ok(APPLY, {"site": site_id, "doc": document}, tenant_a.operator)
    large, large_devices = await _reads(app, site_id)
    assert large_devices == small_devices + 5
    assert len(small) >= 9
    assert large == small
