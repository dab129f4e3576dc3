"""The pure mappings: meter values to measurements, enforced limits to charging profiles, phase rotation."""

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.ocpp.meter import meter_points
from app.ocpp.profiles import MAX_PERIODS, PoleLimits, profile_v16, profile_v201
from app.ocpp.served import expected_rotation, rotation_issue
from app.optimization.documents import EnforcedLimitsDocument

NOW = datetime(2026, 12, 1, 12, 0, 7, tzinfo=UTC)
DEVICE = uuid.uuid4()


def entry(current: float, plan: list[float | None], phases: int = 3, step_s: int = 900) -> EnforcedLimitsDocument:
    """A stored run's enforced-limits entry, as the run document parses it."""
    return EnforcedLimitsDocument.model_validate(
        {
            "uuid": str(DEVICE),
            "valid_until": (NOW + timedelta(seconds=53)).isoformat(),
            "valid_for_s": 53.0,
            "limits_root_side": {"ac_max_current_A": current, "total_power_W": 0.0, "ac_max_phase_count": phases},
            "schedule_start": datetime(2026, 12, 1, 12, 0, tzinfo=UTC).isoformat(),
            "schedule_step_s": step_s,
            "schedule_current_A": plan,
            "schedule_power_W": [None] * len(plan),
        }
    )


def test_units_multipliers_phases_and_totals():
    [point] = meter_points(
        DEVICE,
        [
            {
                "timestamp": "2026-12-01T12:00:00Z",
                "sampled_value": [
                    {"value": 7.2, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "kW"}},
                    {"value": 12345, "measurand": "Energy.Active.Import.Register", "unit_of_measure": {"unit": "Wh"}},
                    {"value": 105, "measurand": "Current.Import", "phase": "L2", "unit_of_measure": {"multiplier": -1}},
                    {"value": "231", "measurand": "Voltage", "phase": "L2-N", "unit": "V"},
                    {"value": 55, "measurand": "SoC"},
                    {"value": 3, "measurand": "Frequency"},
                ],
            },
            {"timestamp": "2026-12-01T12:00:10Z", "sampled_value": [{"value": 50, "measurand": "Frequency"}]},
        ],
    )
    assert point.timestamp == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert (point.power_w, point.energy_wh, point.soc) == (7200.0, 12345.0, 55.0)
    assert [(p.pin, p.current, p.voltage) for p in point.pins] == [("pin2", 10.5, 231.0)]


def test_per_phase_power_adds_up_when_no_total_is_given():
    values = [
        {"value": str(w), "measurand": "Power.Active.Import", "phase": phase, "unit": "W"}
        for phase, w in (("L1", 1000), ("L2", 1100), ("L3", 1200))
    ]
    [point] = meter_points(DEVICE, [{"timestamp": "2026-12-01T12:00:00+00:00", "sampled_value": values}])
    assert point.power_w == 3300.0 and [p.power for p in point.pins] == [1000.0, 1100.0, 1200.0]


def test_a_tx_profile_carries_the_limit_the_phase_count_validity_and_the_later_plan():
    limits = PoleLimits.from_entry(uuid.uuid4(), NOW, NOW, entry(16.0, [16.0, 10.0, 0.0, 32.0]), NOW)
    profile = profile_v201(limits, "tx-9", NOW)
    assert profile["charging_profile_purpose"] == "TxProfile" and profile["transaction_id"] == "tx-9"
    assert profile["valid_to"] == "2026-12-01T12:01:00Z"
    periods = profile["charging_schedule"][0]["charging_schedule_period"]
    assert periods == [
        {"start_period": 0, "limit": 16.0, "number_phases": 3},
        {"start_period": 900 - 7, "limit": 10.0, "number_phases": 3},
        {"start_period": 1800 - 7, "limit": 0.0, "number_phases": 3},
        {"start_period": 2700 - 7, "limit": 32.0, "number_phases": 3},
    ]
    default = profile_v16(limits, None, NOW)
    assert default["charging_profile_purpose"] == "TxDefaultProfile" and "transaction_id" not in default
    assert default["charging_schedule"]["charging_schedule_period"] == periods


def test_a_discharging_step_reaches_the_station_as_0_a_with_its_phase_count():
    limits = PoleLimits.from_entry(uuid.uuid4(), NOW, NOW, entry(-16.0, [-10.0, 13.0], phases=1), NOW)
    periods = profile_v201(limits, "tx-9", NOW)["charging_schedule"][0]["charging_schedule_period"]
    assert periods == [
        {"start_period": 0, "limit": 0.0, "number_phases": 1},
        {"start_period": 900 - 7, "limit": 13.0, "number_phases": 1},
    ]


@given(
    st.floats(0, 80),
    st.lists(st.one_of(st.none(), st.floats(0, 80)), max_size=100),
    st.sampled_from([60, 300, 900]),
    st.integers(1, 3),
)
def test_periods_start_at_now_increase_and_stay_bounded(current, plan, step_s, phases):
    limits = PoleLimits.from_entry(uuid.uuid4(), NOW, NOW, entry(current, plan, phases, step_s), NOW)
    periods = profile_v201(limits, None, NOW)["charging_schedule"][0]["charging_schedule_period"]
    assert periods[0]["start_period"] == 0 and periods[0]["limit"] == round(current, 1)
    starts = [p["start_period"] for p in periods]
    assert starts == sorted(set(starts)) and len(periods) <= MAX_PERIODS
    assert all(p["number_phases"] == phases for p in periods)


def test_phase_rotation_against_the_pin_to_phase_mapping():
    assert expected_rotation(("pin1", "pin2", "pin3"), ("L1", "L2", "L3")) == "RST"
    assert expected_rotation(("pin1", "pin2", "pin3"), ("L2", "L3", "L1")) == "STR"
    assert expected_rotation(("pin1",), ("L3",)) == "TXX"
    assert rotation_issue("rst", "RST") is None
    assert rotation_issue("TXX", "TXX") is None
    assert "pin1: station R, pole T" in rotation_issue("RXX", "TXX")
    assert "not three of R, S, T, X" in rotation_issue("L1L2L3", "RST")
