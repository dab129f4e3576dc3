"""The demo data a newcomer sees: an organisation, a customer, a system with its gateway, one realistic site."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.auth import Role, issue_token
from app.bootstrap import ensure_user, operator_of, top_account
from app.database import Database
from app.domain.grid_identifiers import make_valid_identifier
from app.models import Site, System
from app.services.accounts import create_account
from app.services.sites import LocationInput, SupplyPointInput, create_site
from app.services.systems import create_system
from app.services.topology import apply_site_configuration
from app.settings import Settings
from app.vocabulary import AccountKind, SupplyDirection

DEMO_EMAIL = "demo@phasewise.example"
DEMO_PASSWORD = "phasewise-demo"
DEMO_ORGANISATION = "Phasewise Demo Energy"


def _pole(name: str, collector: str, pins: list[str], phases: list[str], line_current: float = 32) -> dict[str, Any]:
    return {
        "name": name,
        "collector": collector,
        "type": "charging_pole_3phase",
        "line_current": line_current,
        "pin_to_phase_mapping": {"pin_list": pins, "phase_list": phases},
    }


DEMO_CONFIGURATION: dict[str, Any] = {
    "collector_list": [
        {
            "name": "main_collector",
            "children": ["garage_board", "carport_board"],
            "line_current": 63,
            "phase_voltage": 230,
            "commodity": "electricity",
            "1P_3P": "3P",
            "nb_of_phases": 3,
        },
        {
            "name": "garage_board",
            "children": [],
            "line_current": 32,
            "phase_voltage": 230,
            "commodity": "electricity",
            "1P_3P": "3P",
            "nb_of_phases": 3,
            "phase_permutations": {"L1": "L2", "L2": "L3", "L3": "L1"},
        },
        {
            "name": "carport_board",
            "children": [],
            "line_current": 16,
            "phase_voltage": 230,
            "commodity": "electricity",
            "1P_3P": "1P",
            "nb_of_phases": 1,
            "phase": "L3",
        },
    ],
    "device_list": [
        _pole("pole_entrance", "main_collector", ["pin1", "pin2", "pin3"], ["L1", "L2", "L3"]),
        _pole("pole_garage_1", "garage_board", ["pin1", "pin2", "pin3"], ["L2", "L3", "L1"], 16),
        _pole("pole_garage_2", "garage_board", ["pin1", "pin2", "pin3"], ["L3", "L1", "L2"], 16),
        _pole("pole_carport", "carport_board", ["pin1"], ["L3"], 16),
        {
            "name": "pv_roof",
            "collector": "main_collector",
            "type": "forecasted_series_3phase",
            "line_current": 25,
            "forecast_type": "pv",
            "should_be_aggregated": False,
        },
        {
            "name": "building_load",
            "collector": "main_collector",
            "type": "forecasted_series_3phase",
            "line_current": 40,
            "forecast_type": "load",
            "should_be_aggregated": False,
        },
        {
            "name": "battery_basement",
            "collector": "main_collector",
            "type": "battery_energy_storage_system",
            "charging_efficiency": 0.95,
            "discharging_efficiency": 0.95,
            "maximum_charging_power": 10000,
            "maximum_discharging_power": 10000,
            "operational_battery_capacity": 20000,
            "charging_priority": 10,
            "discharging_priority": 10,
            "policies": [
                {
                    "type": "schedule",
                    "schedule": {
                        "frequency": "weekly",
                        "day_of_week": ["monday", "wednesday", "friday"],
                        "time": "07:00",
                        "timezone": "Europe/Brussels",
                    },
                    "minimum_state_of_charge": 80,
                    "maximum_state_of_charge": 100,
                }
            ],
        },
    ],
}


async def ensure_demo(db: Database, settings: Settings) -> tuple[str, str]:
    """Creates the demo data unless it exists; returns the demo user's email and a fresh bearer token."""
    async with db.transaction() as session:
        organisation = await top_account(session, DEMO_ORGANISATION)
        user = await ensure_user(
            session,
            organisation,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            role=Role.ADMIN,
            name="Demo operator",
        )
        operator = operator_of(organisation)
        has_site = (await session.execute(select(col(Site.id)).where(operator.owns(col(Site.account_id))))).first()
        if not has_site:
            customer = await create_account(
                session,
                operator,
                name="Residence Dok Noord",
                kind=AccountKind.CUSTOMER,
                parent_id=organisation.id,
            )
            system: System = await create_system(
                session,
                operator,
                account_id=customer.id,
                name="Dok Noord installation",
                gateway_serial_number="GW-DEMO-0001",
                gateway_model="gridBox 2",
            )
            site = await create_site(
                session,
                operator,
                system_id=system.id,
                name="Dok Noord, Gent",
                country="BE",
                supply_points=[
                    SupplyPointInput(make_valid_identifier("BE", "54144100000000123"), SupplyDirection.BIDIRECTIONAL)
                ],
                location=LocationInput(address="Dok Noord 7, 9000 Gent, Belgium", latitude=51.0652, longitude=3.7304),
                timezone="Europe/Brussels",
            )
            await apply_site_configuration(session, operator, site.id, DEMO_CONFIGURATION)
    token, _ = issue_token(user.id, settings.resolved_jwt_secret(), timedelta(seconds=settings.token_ttl_seconds))
    return DEMO_EMAIL, token
