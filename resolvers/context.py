"""The typed per-request context: database, settings, the caller, and fresh loaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from app.auth import Principal, Role
from app.database import Database
from app.errors import PhasewiseError, Unauthenticated
from app.live.bus import Bus
from app.settings import Settings
from resolvers.loaders import Loaders


@dataclass
class Context:
    db: Database
    settings: Settings
    principal: Principal | None
    bus: Bus | None = None
    loaders: Loaders = field(init=False)
    credential_error: PhasewiseError | None = None
    connection_params: dict[str, Any] | None = None
    websocket: Any = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db, self.principal)

    def authenticate_as(self, principal: Principal) -> None:
        self.principal, self.credential_error = principal, None
        self.fresh_loaders()

    def fresh_loaders(self) -> None:
        """Subscriptions call this before every event, so nothing is served from an earlier event's cache."""
        self.loaders = Loaders(self.db, self.principal)

    def caller(self, role: Role = Role.VIEWER) -> Principal:
        """The authenticated principal, held to at least `role`."""
        if self.credential_error is not None:
            raise self.credential_error
        if self.principal is None:
            raise Unauthenticated("authentication required: send 'Authorization: Bearer <token or API key>'")
        self.principal.require(role)
        return self.principal


Info = StrawberryInfo[Context, Any]
