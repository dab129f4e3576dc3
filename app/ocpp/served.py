"""What both protocol versions share on the server side: limits out, one call at a time, newest first,
and the phase-rotation check."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from ocpp.messages import MessageType

from app.ocpp.ceiling import Ceiling
from app.ocpp.link import StationLink
from app.ocpp.profiles import PoleLimits
from app.ocpp.stations import CONTROL_OK, CONTROL_REFUSED, CONTROL_UNRESPONSIVE

log = logging.getLogger(__name__)
_LETTER = {"L1": "R", "L2": "S", "L3": "T"}
PINS = ("pin1", "pin2", "pin3")


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def expected_rotation(pin_list: tuple[str, ...], phase_list: tuple[str, ...]) -> str:
    """The pole's pin-to-phase mapping in OCPP's PhaseRotation letters (R, S, T = L1, L2, L3; X: none)."""
    mapping = dict(zip(pin_list, phase_list, strict=False))
    return "".join(_LETTER.get(mapping.get(pin, ""), "X") for pin in PINS)


def rotation_issue(reported: str, expected: str) -> str | None:
    """Where the station's rotation and the pole's mapping disagree on a pin both connect, or one only."""
    reported = reported.strip().upper()
    if len(reported) != 3 or set(reported) - set("RSTX"):
        return f"the station reports PhaseRotation {reported!r}, not three of R, S, T, X"
    wrong = [
        f"pin{i + 1}: station {r}, pole {e}" for i, (r, e) in enumerate(zip(reported, expected, strict=True)) if r != e
    ]
    return (
        None
        if not wrong
        else f"PhaseRotation {reported} disagrees with the pin-to-phase mapping {expected}: " + ("; ".join(wrong))
    )


@functools.cache
def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def camel_case(data: Any) -> Any:
    """OCPP's camelCase keys for the snake_case documents built here (their keys are plain snake_case)."""
    if isinstance(data, dict):
        return {_camel_key(k): camel_case(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [camel_case(v) for v in data]
    return data


class Served:
    """Mixed into the version's ChargePoint; `set_profile` sends one SetChargingProfile and says whether the
    station accepted it (and why not)."""

    link: StationLink
    close: Callable[[str], Awaitable[None]]
    # The ocpp library's ChargePoint (the class this is mixed into) provides these.
    _call_lock: asyncio.Lock
    _response_timeout: float
    _send: Callable[[str], Awaitable[None]]
    _get_specific_response: Callable[[str, float], Awaitable[Any]]

    def init_served(
        self,
        link: StationLink,
        close: Callable[[str], Awaitable[None]],
        accepted: Callable[[StationLink, datetime], None],
    ) -> None:
        """`close` ends the connection; `accepted` notes a profile the station took (written in batches)."""
        self.link, self.close, self._accepted = link, close, accepted
        self._latest: PoleLimits | None = None  # the newest plan's limits, as planned
        self._ceiling: Ceiling | None = None
        self._sent: PoleLimits | None = None
        self._wake = asyncio.Event()

    async def set_profile(self, limits: PoleLimits, now: datetime) -> tuple[bool, str | None]:
        raise NotImplementedError

    async def send_call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One CALL of a document built here, without the library's generic per-call work (dataclass copies,
        key rewriting, schema validation in a thread): the hot path of every run, for every station. The wire
        rules are the library's own: one call at a time, the answer matched by its id within the response
        timeout (TimeoutError otherwise), a CALLERROR raised as its OCPPError. Returns the answer's payload."""
        unique_id = str(uuid.uuid4())
        frame = orjson.dumps([int(MessageType.Call), unique_id, action, camel_case(payload)]).decode()
        async with self._call_lock:
            await self._send(frame)
            response = await self._get_specific_response(unique_id, self._response_timeout)
        if response.message_type_id == MessageType.CallError:
            raise response.to_exception()
        answer: dict[str, Any] = response.payload
        return answer

    async def read_rotation(self) -> str | None:
        """The station's own PhaseRotation of the pole's connector, if it tells."""
        return None

    def offer(self, limits: PoleLimits) -> None:
        """Newer limits replace older ones not yet sent (a plan made earlier never replaces a later one); the
        sender wakes up."""
        if self._latest is None or limits.planned_at >= self._latest.planned_at:
            self._latest = limits
            self._wake.set()

    def hold(self, ceiling: Ceiling) -> None:
        """A lowered bound: what the station was sent is cut at once where it lies above it."""
        self._ceiling = ceiling
        now = datetime.now(UTC)
        if self._latest is not None and self._sent is not None and self._due(now) != self._sent:
            self._wake.set()

    def _due(self, now: datetime) -> PoleLimits | None:
        """The newest limits, held under the ceiling while it lasts for plans made before it."""
        limits, ceiling = self._latest, self._ceiling
        if limits is None or ceiling is None:
            return limits
        if not ceiling.holds(limits.planned_at, now):
            if limits.planned_at >= ceiling.since:
                self._ceiling = None  # a plan made after the constraint knows it
            return limits
        return limits.capped(ceiling.amps(limits.phase_count), ceiling.until)

    async def send_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            now = datetime.now(UTC)
            limits = self._due(now)
            if limits is None or limits.valid_until <= now or limits == self._sent:
                continue
            try:
                accepted, message = await self.set_profile(limits, now)
            except TimeoutError:
                await self.link.control(CONTROL_UNRESPONSIVE, "the station did not answer SetChargingProfile")
                await self.close("did not answer SetChargingProfile")
                return
            except Exception as exc:  # a CallError: the station cannot take it
                accepted, message = False, f"SetChargingProfile failed: {exc}"
            if accepted:
                self._sent = limits
                await self.link.control(CONTROL_OK, None)
                self._accepted(self.link, now)
            else:
                await self.link.control(CONTROL_REFUSED, message or "the station rejected the charging profile")

    async def check_rotation(self) -> None:
        with contextlib.suppress(TimeoutError):
            try:
                reported = await self.read_rotation()
            except Exception as exc:  # not every station implements the request
                log.info("station %s: no phase rotation (%s)", self.link.station.station_id, exc)
                return
            if reported:
                station = self.link.station
                issue = rotation_issue(reported, expected_rotation(station.pin_list, station.phase_list))
                await self.link.report(replan=True, phase_rotation=reported, phase_rotation_issue=issue)
