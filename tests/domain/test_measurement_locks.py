"""The ingest's locks: two batches whose recomputes could see each other's points always meet on a lock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.services.measurements import _locks

SLOT = timedelta(minutes=15)
MAX_GAP = timedelta(minutes=15)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
DEVICE = uuid.UUID(int=1)


def slot_end(ts: datetime) -> datetime:
    """The first 15-minute boundary at or after `ts` (the SQL's SLOT_END)."""
    slots = -((EPOCH - ts) // SLOT)
    return EPOCH + slots * SLOT


def reach(points: list[datetime]) -> tuple[datetime, datetime]:
    """What the recompute reads: (slot before the first point - MAX_GAP, slot after the last point]."""
    return slot_end(min(points)) - SLOT - MAX_GAP, slot_end(max(points)) + SLOT


def meet(a: list[datetime], b: list[datetime]) -> bool:
    la, lb = _locks([(DEVICE, t) for t in a]), _locks([(DEVICE, t) for t in b])
    return bool(la.whole or lb.whole or set(la.hours) & set(lb.hours))


# A batch is a few points within 90 minutes, at any second of six hours (so two batches often come close).
starts = st.integers(0, 6 * 3600).map(lambda s: datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=s))
batches = st.builds(
    lambda start, offsets: [start + timedelta(seconds=o) for o in offsets],
    starts,
    st.lists(st.integers(0, 90 * 60), min_size=1, max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(batches, batches)
@example(  # the earliest point a recompute at 10:15 reads lies in the hour before
    [datetime(2026, 3, 1, 10, 15, tzinfo=UTC)], [datetime(2026, 3, 1, 9, 46, tzinfo=UTC)]
)
def test_batches_that_can_see_each_others_points_share_a_lock(a: list[datetime], b: list[datetime]) -> None:
    low, high = reach(a)
    if any(low < t <= high for t in b):
        assert meet(a, b)
        assert not _locks([(DEVICE, t) for t in a]).whole


def test_far_apart_batches_of_one_device_do_not_wait_for_each_other() -> None:
    morning = [datetime(2026, 3, 1, 8, m, tzinfo=UTC) for m in range(0, 50, 5)]
    evening = [t + timedelta(hours=10) for t in morning]
    assert not meet(morning, evening)


def test_a_batch_reaching_over_many_hours_locks_its_devices_whole() -> None:
    days = [datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=h) for h in range(0, 80)]
    locks = _locks([(DEVICE, t) for t in days])
    assert locks.whole == [DEVICE] and not locks.hours and not locks.shared
