"""Registering the OCPP station that drives a charging pole."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from app.auth import Principal
from app.ocpp.stations import StationConfig, configure_station
from resolvers.context import Info
from resolvers.errors import UserError
from resolvers.mutations.base import mutate, pk
from resolvers.types.ocpp import OcppStation


@strawberry.type
class OcppStationPayload:
    ocpp_station: OcppStation | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OcppMutations:
    @strawberry.mutation(
        description="Names the OCPP station (its id, EVSE and connector) that drives a charging pole, and its "
        "Basic-auth password (16 to 40 characters, stored hashed; required the first time, kept when omitted). "
        "The station then connects to ws(s)://…/ocpp/<stationId> with subprotocol ocpp2.0.1 or ocpp1.6."
    )
    async def set_charging_pole_station(
        self,
        info: Info,
        device_id: relay.GlobalID,
        station_id: str,
        evse_id: int = 1,
        connector_id: int = 1,
        password: str | None = None,
        fallback_current_a: float | None = None,
    ) -> OcppStationPayload:
        async def work(session: AsyncSession, caller: Principal) -> dict[str, Any]:
            config = StationConfig(station_id.strip(), evse_id, connector_id, password, fallback_current_a)
            row = await configure_station(session, caller, pk(device_id, ("ChargingPole",), "deviceId"), config)
            return {"ocpp_station": OcppStation.from_row(row, info.context.settings)}

        return await mutate(info, OcppStationPayload, work)
