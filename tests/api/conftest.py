"""The API under test, over HTTP through its ASGI app, on a fresh database; and a small world of two tenants."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.auth import Role
from app.bootstrap import ensure_user, top_account
from app.settings import Settings
from app.vocabulary import AccountKind
from phasewise.asgi import create_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[Starlette]:
    application = create_app(
        Settings(jwt_secret="test-secret-of-at-least-thirty-two-bytes", data_dir=tmp_path, control_loop=False),
        database_url,
    )
    async with application.router.lifespan_context(application):
        yield application


@dataclass
class Api:
    client: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
        """The data of a query that must succeed, and of a mutation whose payload must carry no errors."""
        body = await self.post(query, variables, token)
        assert "errors" not in body, body["errors"]
        for value in body["data"].values():
            if isinstance(value, dict) and value.get("errors"):
                raise AssertionError(value["errors"])
        return body["data"]

    async def login(self, email: str, password: str = PASSWORD) -> str:
        data = await self.ok(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }",
            {"e": email, "p": password},
        )
        return data["login"]["token"]


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://phasewise.test") as client:
        yield Api(client)


@dataclass
class Tenant:
    account_id: str
    admin: str
    operator: str
    viewer: str


async def make_tenant(app: Starlette, api: Api, name: str, kind: AccountKind = AccountKind.ORGANIZATION) -> Tenant:
    db = app.state.db
    async with db.transaction() as session:
        account = await top_account(session, name, kind)
        for role in Role:
            await ensure_user(session, account, email=f"{role.value.lower()}@{name}.test", password=PASSWORD, role=role)
    tokens = {role: await api.login(f"{role.value.lower()}@{name}.test") for role in Role}
    account_id = (await api.ok("{ viewer { account { id } } }", token=tokens[Role.ADMIN]))["viewer"]["account"]["id"]
    return Tenant(account_id, tokens[Role.ADMIN], tokens[Role.OPERATOR], tokens[Role.VIEWER])


@pytest.fixture
async def tenant_a(app: Starlette, api: Api) -> Tenant:
    return await make_tenant(app, api, "alpha")


@pytest.fixture
async def tenant_b(app: Starlette, api: Api) -> Tenant:
    return await make_tenant(app, api, "bravo")


@pytest.fixture
async def supplier(app: Starlette, api: Api) -> Tenant:
    """A top-level supplier account (only the platform's operator creates those)."""
    return await make_tenant(app, api, "supplier", AccountKind.SUPPLIER)
