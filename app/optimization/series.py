"""Step series (a point holds until the next) sampled on the optimizer's time grid."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from datetime import datetime, timedelta


def sample(
    points: Sequence[tuple[datetime, float | None]], start: datetime, step: timedelta, steps: int, default: float
) -> list[float]:
    """The value in force at each step's start; `default` before the first point and for None values."""
    times = [t for t, _ in points]
    values = []
    for k in range(steps):
        index = bisect.bisect_right(times, start + k * step) - 1
        value = points[index][1] if index >= 0 else None
        values.append(default if value is None else value)
    return values


def finite_or_none(values: Sequence[float]) -> list[float | None]:
    """JSON has no infinity: an unlimited value is stored as null."""
    return [None if not math.isfinite(v) else float(v) for v in values]
