"""Simulated charging stations: the ocpp library's ChargePoint (2.0.1 and 1.6) on a real websocket client,
recording every SetChargingProfile with the moment it arrived."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

ACCEPT, REJECT, HANG = "accept", "reject", "hang"


def iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Received:
    at: float  # time.time() when the station got it
    target: int  # evse (2.0.1) or connector (1.6)
    profile: dict[str, Any]

    @property
    def periods(self) -> list[dict[str, Any]]:
        schedule = self.profile["charging_schedule"]
        return (schedule[0] if isinstance(schedule, list) else schedule)["charging_schedule_period"]

    @property
    def limit(self) -> float:
        return float(self.periods[0]["limit"])


class Recording:
    mode: str = ACCEPT
    rotation: str | None = "RST"

    def init_recording(self) -> None:
        self.profiles: asyncio.Queue[Received] = asyncio.Queue()
        self.all_profiles: list[Received] = []
        self._arrived = time.time()
        self.routing: set[asyncio.Task[None]] = set()

    async def route_message(self, raw_msg: str) -> None:
        """Stamps each frame as the station picks it up, before the library validates and routes it.

        A hanging station leaves the server's calls unanswered yet still reads the answers to its own calls
        (the library routes one frame at a time, so a call it never answers would hold up its own boot): each
        frame is then routed on its own."""
        self._arrived = time.time()
        if self.mode != HANG:
            await super().route_message(raw_msg)  # type: ignore[misc]
            return
        task = asyncio.create_task(super().route_message(raw_msg))  # type: ignore[misc]
        self.routing.add(task)
        task.add_done_callback(self.routing.discard)

    async def _record(self, target: int, profile: dict[str, Any]) -> str:
        received = Received(self._arrived, target, profile)
        self.all_profiles.append(received)
        self.profiles.put_nowait(received)
        if self.mode == HANG:
            await asyncio.Event().wait()  # a station that stops answering: nothing more is processed
        return "Accepted" if self.mode == ACCEPT else "Rejected"

    async def profile(self, predicate: Any = lambda p: True, timeout: float = 20.0) -> Received:
        """The next profile that satisfies `predicate` (waiting for it with a generous bound)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            received = await asyncio.wait_for(self.profiles.get(), max(deadline - loop.time(), 0.01))
            if predicate(received):
                return received


class Station201(Recording, ChargePoint201):
    @on(Action201.set_charging_profile)
    async def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        return result201.SetChargingProfile(status=await self._record(evse_id, charging_profile))

    @on(Action201.get_variables)
    async def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        results = []
        for item in get_variable_data:
            known = item["variable"]["name"] == "PhaseRotation" and self.rotation
            results.append(
                {
                    "attribute_status": "Accepted" if known else "UnknownVariable",
                    "component": item["component"],
                    "variable": item["variable"],
                    **({"attribute_value": self.rotation} if known else {}),
                }
            )
        return result201.GetVariables(get_variable_result=results)

    async def boot(self) -> Any:
        return await self.call(
            call201.BootNotification(
                charging_station={"model": "Sim-201", "vendor_name": "Phasewise", "firmware_version": "1.0"},
                reason="PowerUp",
            )
        )

    async def status(self, state: str, evse_id: int = 1, connector_id: int = 1) -> None:
        await self.call(
            call201.StatusNotification(
                timestamp=iso(), connector_status=state, evse_id=evse_id, connector_id=connector_id
            )
        )

    async def transaction(
        self,
        transaction_id: str,
        event_type: str,
        seq_no: int,
        meter_value: list[dict[str, Any]] | None = None,
        charging_state: str | None = None,
        phases: int | None = None,
        evse_id: int = 1,
    ) -> None:
        info = {"transaction_id": transaction_id, **({"charging_state": charging_state} if charging_state else {})}
        await self.call(
            call201.TransactionEvent(
                event_type=event_type,
                timestamp=iso(),
                trigger_reason="CablePluggedIn" if event_type == "Started" else "MeterValuePeriodic",
                seq_no=seq_no,
                transaction_info=info,  # type: ignore[arg-type]
                meter_value=meter_value,  # type: ignore[arg-type]
                number_of_phases_used=phases,
                evse={"id": evse_id, "connector_id": 1},  # type: ignore[arg-type]
            )
        )

    async def meter(self, meter_value: list[dict[str, Any]], evse_id: int = 1) -> None:
        await self.call(call201.MeterValues(evse_id=evse_id, meter_value=meter_value))  # type: ignore[arg-type]

    async def charging_needs(self, energy_wh: float, departure: datetime, evse_id: int = 1) -> Any:
        return await self.call(
            call201.NotifyEVChargingNeeds(
                evse_id=evse_id,
                charging_needs={  # type: ignore[arg-type]
                    "requested_energy_transfer": "AC_three_phase",
                    "departure_time": iso(departure),
                    "ac_charging_parameters": {
                        "energy_amount": int(energy_wh),
                        "ev_min_current": 6,
                        "ev_max_current": 32,
                        "ev_max_voltage": 400,
                    },
                },
            )
        )


class Station16(Recording, ChargePoint16):
    @on(Action16.set_charging_profile)
    async def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any) -> Any:
        return result16.SetChargingProfile(status=await self._record(connector_id, cs_charging_profiles))

    @on(Action16.get_configuration)
    async def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        keys = (
            [{"key": "ConnectorPhaseRotation", "readonly": True, "value": f"1.{self.rotation}"}]
            if self.rotation
            else []
        )
        return result16.GetConfiguration(configuration_key=keys, unknown_key=[])

    async def boot(self) -> Any:
        return await self.call(call16.BootNotification(charge_point_model="Sim-16", charge_point_vendor="Phasewise"))

    async def start_transaction(self, meter_start: int, connector_id: int = 1) -> int:
        result = await self.call(
            call16.StartTransaction(connector_id=connector_id, id_tag="TAG1", meter_start=meter_start, timestamp=iso())
        )
        return int(result.transaction_id)

    async def stop_transaction(self, transaction_id: int, meter_stop: int) -> None:
        await self.call(call16.StopTransaction(meter_stop=meter_stop, timestamp=iso(), transaction_id=transaction_id))

    async def meter(self, meter_value: list[dict[str, Any]], transaction_id: int | None = None) -> None:
        await self.call(call16.MeterValues(connector_id=1, meter_value=meter_value, transaction_id=transaction_id))


def basic(station_id: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{station_id}:{password}".encode()).decode()


@contextlib.asynccontextmanager
async def connected(
    address: str,
    station_id: str,
    password: str,
    version: str = "2.0.1",
    mode: str = ACCEPT,
    rotation: str | None = "RST",
) -> AsyncIterator[Any]:
    """A station connected to `ws://address/ocpp/<station_id>`, its message loop running."""
    protocol, kind = ("ocpp2.0.1", Station201) if version == "2.0.1" else ("ocpp1.6", Station16)
    async with websockets.connect(
        f"ws://{address}/ocpp/{station_id}",
        subprotocols=[protocol],  # type: ignore[list-item]
        additional_headers={"Authorization": basic(station_id, password)},
        open_timeout=30,
    ) as websocket:
        station = kind(station_id, websocket, response_timeout=30)
        station.mode, station.rotation = mode, rotation
        station.init_recording()
        task = asyncio.create_task(station.start())
        try:
            yield station
        finally:
            for running in (task, *station.routing):
                running.cancel()
                with contextlib.suppress(BaseException):
                    await running


def sampled(
    currents: tuple[float, float, float], volts: float = 230.0, energy_wh: float | None = None, soc: float | None = None
) -> list[dict[str, Any]]:
    """2.0.1 sampled values: per-phase current, voltage and power, the energy register, the state of charge."""
    values: list[dict[str, Any]] = []
    for phase, current in zip(("L1", "L2", "L3"), currents, strict=True):
        values.append(
            {"value": current, "measurand": "Current.Import", "phase": phase, "unit_of_measure": {"unit": "A"}}
        )
        values.append({"value": volts, "measurand": "Voltage", "phase": f"{phase}-N", "unit_of_measure": {"unit": "V"}})
        values.append(
            {
                "value": current * volts,
                "measurand": "Power.Active.Import",
                "phase": phase,
                "unit_of_measure": {"unit": "W"},
            }
        )
    if energy_wh is not None:
        values.append(
            {
                "value": energy_wh / 1000,
                "measurand": "Energy.Active.Import.Register",
                "unit_of_measure": {"unit": "kWh"},
            }
        )
    if soc is not None:
        values.append({"value": soc, "measurand": "SoC", "unit_of_measure": {"unit": "Percent"}})
    return values
