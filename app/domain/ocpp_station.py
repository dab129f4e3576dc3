"""The OCPP station that drives a charging pole, as Pleevi's document may carry it (`ocpp_station` on a
`charging_pole_3phase`) and as `setChargingPoleStation` sets it: the rules on its identity, in one place.

OCPP 2.0.1 part 2 (security): a station identity is at most 48 printable characters and, with Basic
authentication, carries no ':'; a password (BasicAuthPassword) is 16 to 40 characters. EVSE and connector
ids are positive integers. A password given in a document is write-only: it is stored as the same argon2
hash as the mutation's and never written back (`site_document` leaves it out); a new station needs one,
an existing station keeps its own when the document omits it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from app.domain.common import DomainModel
from app.domain.pydantic_issues import domain_error
from app.errors import ErrorCode

STATION_ID = re.compile(r"^[A-Za-z0-9*\-_=+|@.]{1,48}$")
STATION_ID_RULE = "1 to 48 characters: letters, digits and *-_=+|@."
PASSWORD_LENGTH = (16, 40)
PASSWORD_RULE = "must be 16 to 40 characters (OCPP BasicAuthPassword)"
MAX_ID = 2**31 - 1
ID_RULE = "must be a positive integer"


def station_id_ok(value: str) -> bool:
    return STATION_ID.match(value) is not None


def password_ok(value: str) -> bool:
    return PASSWORD_LENGTH[0] <= len(value) <= PASSWORD_LENGTH[1]


def _station_id(value: str) -> str:
    if not station_id_ok(value):
        raise domain_error(ErrorCode.INVALID_FORMAT, STATION_ID_RULE)
    return value


def _password(value: str | None) -> str | None:
    if value is not None and not password_ok(value):
        raise domain_error(ErrorCode.OUT_OF_RANGE, PASSWORD_RULE)
    return value


def _positive_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise domain_error(ErrorCode.OUT_OF_RANGE, ID_RULE)
    return value


OcppId = Annotated[int, Field(strict=True), AfterValidator(_positive_id)]


class OcppStationMapping(DomainModel):
    """`station_id` logs in over `/ocpp/<station_id>`; its EVSE `evse_id` (2.0.1) / connector `connector_id`
    (1.6, and 2.0.1's connector on that EVSE) is the pole; `fallback_current` (A) is what it draws without a
    profile (default: the pole's line current)."""

    station_id: Annotated[str, Field(strict=True), AfterValidator(_station_id)]
    evse_id: OcppId = 1
    connector_id: OcppId = 1
    password: Annotated[str | None, Field(strict=True, exclude=True), AfterValidator(_password)] = None
    fallback_current: Annotated[float | None, Field(ge=0, strict=True, allow_inf_nan=False)] = None
