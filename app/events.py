"""Events that cross processes: PostgreSQL NOTIFY carrying ids only, sent inside the writing transaction,
so a listener hears of a change exactly when it is committed (and never of one rolled back)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "phasewise_events"


class EventKind(StrEnum):
    SITE_CHANGED = "site_changed"  # anything the plan depends on: topology, sessions, prices, forecasts, limits
    FLEXIBILITY_CHANGED = "flexibility_changed"  # a constraint set or removed
    MEASUREMENTS = "measurements"  # points ingested
    RUN_STORED = "run_stored"  # a new plan with its enforced limits
    RESYNC = "resync"  # local only: the listener reconnected; subscribers catch up from stored state


# What makes the control loop plan a site again.
REPLAN = frozenset({EventKind.SITE_CHANGED, EventKind.FLEXIBILITY_CHANGED})


@dataclass(frozen=True)
class Event:
    kind: EventKind
    site_id: uuid.UUID | None
    ids: dict[str, str] = field(default_factory=dict)
    sent_at: float | None = None  # the sender's wall clock at NOTIFY (for the event-lag metric)

    def encode(self) -> str:
        return json.dumps(
            {
                "kind": self.kind.value,
                "site": str(self.site_id) if self.site_id else None,
                "ids": self.ids,
                "at": self.sent_at,
            }
        )

    @classmethod
    def decode(cls, payload: str) -> Event:
        data: dict[str, Any] = json.loads(payload)
        site = data.get("site")
        at = data.get("at")
        return cls(
            EventKind(data["kind"]),
            uuid.UUID(site) if site else None,
            data.get("ids") or {},
            float(at) if isinstance(at, int | float) else None,
        )


def payload(kind: EventKind, site_id: uuid.UUID | None, **ids: Any) -> str:
    """The NOTIFY payload of an event sent now (for a statement that queues it along with other work)."""
    return Event(kind, site_id, {k: str(v) for k, v in ids.items()}, time.time()).encode()


async def notify(session: AsyncSession, kind: EventKind, site_id: uuid.UUID | None, **ids: Any) -> None:
    """Queue an event in the caller's transaction; PostgreSQL delivers it at commit."""
    await session.execute(select(func.pg_notify(CHANNEL, payload(kind, site_id, **ids))))
