"""The flexibility resolution's invariants, for any set of constraints."""

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.flexibility import ConstraintView, resolve

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
power = st.one_of(st.none(), st.floats(-50_000, 50_000, allow_nan=False))
constraint = st.builds(
    lambda lo, hi, sp, prio, life, age: ConstraintView(
        uuid.uuid4(), lo, hi, sp, prio, NOW + timedelta(seconds=life), NOW - timedelta(seconds=age)
    ),
    power,
    power,
    power,
    st.integers(0, 2_147_483_647),
    st.integers(-3600, 90_000),
    st.integers(0, 3600),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(constraint, max_size=8), st.floats(-20_000, 0), st.floats(0, 20_000))
def test_bounds_stay_physical_ordered_and_only_live_constraints_decide(constraints, low, high):
    resolved = resolve((low, high), constraints, NOW)
    assert low <= resolved.minimum.value <= resolved.maximum.value <= high
    if resolved.set_point is not None:
        assert resolved.minimum.value <= resolved.set_point.value <= resolved.maximum.value
    for bound in (resolved.minimum, resolved.maximum, resolved.set_point):
        if bound is not None and bound.decided_by is not None:
            assert bound.decided_by.invalid_at > NOW
    live_max = [c for c in constraints if c.invalid_at > NOW and c.max_active_power is not None]
    if (
        live_max
        and resolved.maximum.decided_by is not None
        and resolved.minimum.decided_by is not resolved.maximum.decided_by
    ):
        assert resolved.maximum.decided_by.priority == max(c.priority for c in live_max)


def test_an_expired_constraint_is_ignored():
    expired = ConstraintView(uuid.uuid4(), None, 100.0, None, 5, NOW, NOW - timedelta(hours=1))
    assert resolve((0.0, 1000.0), [expired], NOW).maximum.value == 1000.0
