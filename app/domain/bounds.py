"""The sane window of every input, from the domain's vocabulary: one place for each bound.

Physical bounds are generous (a large site, not a power plant), so no real installation hits them while
1e308 and its like are refused before they reach arithmetic, the solver or the database.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime

from app.errors import ErrorCode

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Timestamps outside [EARLIEST, LATEST) are refused (also after conversion to UTC)."""


def timestamp_issue(value: datetime) -> str | None:
    """Why a timestamp is out of the window, or None. Naive timestamps are read as UTC."""
    try:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError:
        return f"is out of range once converted to UTC; must lie from {EARLIEST.isoformat()} to {LATEST.isoformat()}"
    if not EARLIEST <= utc < LATEST:
        return f"must lie from {EARLIEST.isoformat()} (inclusive) to {LATEST.isoformat()} (exclusive)"
    return None


MAX_CURRENT_A = 10_000.0
"""Per phase: above the largest low-voltage main fuses (6,300 A) with room to spare."""
MAX_VOLTAGE_V = 100_000.0
"""Up to medium voltage, for transformer children."""
MAX_POWER_W = 1e9
"""1 GW: powers, set points, limits, forecasts and measured power, either sign."""
MAX_ENERGY_WH = 1e15
"""A meter reading or a capacity: 1 PWh."""
MAX_PRICE_PER_KWH = 1e5
"""Either sign: wholesale spikes reach a few thousand per MWh, i.e. a few per kWh."""
MAX_NAME_LENGTH = 200

_UNPRINTABLE = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Bidirectional controls (marks, embeddings, overrides, isolates): they make a name display as another."""


def magnitude_issue(value: float, bound: float, unit: str) -> str | None:
    """Why a number is refused (not finite, or |value| above the bound), or None."""
    if not math.isfinite(value):
        return "must be a finite number"
    if abs(value) > bound:
        return f"must be at most {bound:g} {unit} in magnitude"
    return None


def name_issue(value: str) -> tuple[ErrorCode, str] | None:
    """Names are at most 200 printable characters: no control, format-only or bidirectional characters."""
    if len(value) > MAX_NAME_LENGTH:
        return ErrorCode.OUT_OF_RANGE, f"must be at most {MAX_NAME_LENGTH} characters"
    for character in value:
        if character in _UNPRINTABLE or unicodedata.category(character) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            message = f"must be printable: {ascii(character)} is a control, format or bidirectional character"
            return ErrorCode.INVALID_FORMAT, message
    return None
