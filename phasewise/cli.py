"""`phasewise`: serve, demo, migrate, export-schema, create-user."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from importlib.metadata import version
from pathlib import Path

from app.settings import get_settings


def _database_url() -> str:
    """Resolve once in the parent (starting the embedded server if needed) and hand it to workers via env."""
    from app.database import resolve_database_url

    url = resolve_database_url(get_settings())
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    return url


async def _migrate(url: str) -> None:
    from app.database import Database
    from app.migrate import migrate

    db = Database(url)
    try:
        await migrate(db.engine)
    finally:
        await db.dispose()


def _serve(host: str, port: int, workers: int) -> None:
    from phasewise.logs import logging_config
    from phasewise.observability import share_metrics_between_workers
    from phasewise.signals import serve

    url = _database_url()
    asyncio.run(_migrate(url))
    settings = get_settings()
    if workers > 1:
        share_metrics_between_workers(settings.data_dir / "metrics")
    serve(
        "phasewise.asgi:create_app",
        host,
        port,
        workers,
        lambda: print(f"Phasewise: GraphiQL at http://{host}:{port}/graphql", flush=True),
        log_config=logging_config(settings),
        access_log=False,
    )


async def _demo(url: str) -> tuple[str, str]:
    from app.database import Database
    from app.demo import ensure_demo
    from app.migrate import migrate

    db = Database(url)
    try:
        await migrate(db.engine)
        return await ensure_demo(db, get_settings())
    finally:
        await db.dispose()


async def _create_user(url: str, args: argparse.Namespace) -> None:
    from app.auth import Role
    from app.bootstrap import ensure_user, top_account
    from app.database import Database
    from app.migrate import migrate
    from app.vocabulary import AccountKind

    db = Database(url)
    try:
        await migrate(db.engine)
        async with db.transaction() as session:
            account = await top_account(session, args.account, AccountKind(args.kind))
            user = await ensure_user(session, account, email=args.email, password=args.password, role=Role(args.role))
        print(f"user {user.email} ({user.role}) in account {account.name!r}")
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phasewise", description="Phase-aware energy management, as a GraphQL API.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('phasewise')}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "run the API server"),
        ("demo", "create the demo site if missing, print a token, simulate its meters and cars, serve"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
        command.add_argument("--port", type=int, default=8000, help="TCP port to listen on (default: %(default)s)")
        command.add_argument(
            "--workers", type=int, default=1, help="server processes sharing the port (default: %(default)s)"
        )
    commands.add_parser("migrate", help="apply the database migrations")
    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", type=Path, help="write to this file instead of standard output")
    user = commands.add_parser("create-user", help="create a user in a top-level account (created when missing)")
    user.add_argument("--email", required=True, help="the user's login")
    user.add_argument("--password", required=True, help="the user's password")
    user.add_argument(
        "--role",
        choices=["VIEWER", "OPERATOR", "ADMIN"],
        default="ADMIN",
        help="what the user may do (default: %(default)s)",
    )
    user.add_argument("--account", required=True, help="name of the top-level account")
    user.add_argument(
        "--kind",
        choices=["ORGANIZATION", "CUSTOMER", "SUPPLIER"],
        default="ORGANIZATION",
        help="kind of the account when it is created (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    if args.command == "export-schema":
        from resolvers.schema import schema

        sdl = schema.as_str() + "\n"
        if args.output:
            args.output.write_text(sdl)
        else:
            sys.stdout.write(sdl)
    elif args.command == "migrate":
        asyncio.run(_migrate(_database_url()))
        print("database is at the newest revision")
    elif args.command == "create-user":
        asyncio.run(_create_user(_database_url(), args))
    elif args.command == "demo":
        from app.simulator import start_in_thread

        url = _database_url()
        email, token = asyncio.run(_demo(url))
        print(f"Demo user: {email} / password: phasewise-demo\nBearer token (GraphiQL headers):")
        print(f'{{"Authorization": "Bearer {token}"}}', flush=True)
        print(
            f"Dashboard at http://{args.host}:{args.port}/ (the demo site's meters and cars are simulated)", flush=True
        )
        start_in_thread(url)
        _serve(args.host, args.port, args.workers)
    else:
        _serve(args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
