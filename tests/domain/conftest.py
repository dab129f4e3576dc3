"""Shared fixtures of the domain tests."""

from __future__ import annotations

import pytest

from .documents import Document, battery, charging_pole, main_collector, pv_forecast


@pytest.fixture
def document() -> Document:
    """A valid site: the seeds' collector, pole, PV forecast and battery."""
    return {"collector_list": [main_collector()], "device_list": [charging_pole(), pv_forecast(), battery()]}
