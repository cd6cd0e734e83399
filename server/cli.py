"""The ``wuye`` command: serve, db upgrade/downgrade, demo, user add/passwd."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from server.config import ConfigError, Settings


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        print(f"wuye: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_db(args: argparse.Namespace) -> None:
    from server.db.migrate import downgrade, upgrade

    settings = _settings()
    if settings.is_sqlite:
        os.makedirs(os.path.dirname(settings.database_url.split("///", 1)[1]) or ".", exist_ok=True)
    if args.action == "upgrade":
        upgrade(settings.database_url, args.revision or "head")
        print("database is at the latest schema")
    else:
        downgrade(settings.database_url, args.revision or "base")
        print(f"database downgraded to {args.revision or 'base'}")


async def _demo(settings: Settings) -> None:
    from server.clock import Clock
    from server.db.engine import Database
    from server.demo import DEMO_PASSWORD, demo_logins, load_demo

    db = Database(settings.database_url)
    try:
        async with db.writer() as session:
            created = await load_demo(session, Clock())
            await session.commit()
        async with db.reader() as session:
            logins = await demo_logins(session)
    finally:
        await db.dispose()
    print("demo data loaded" if created else "demo data already present (unchanged)")
    print(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for name, phone, role in logins:
        print(f"  {role:<11} {name:<6} {phone}")


def cmd_demo(_: argparse.Namespace) -> None:
    asyncio.run(_demo(_settings()))


async def _user(args: argparse.Namespace, settings: Settings) -> None:
    from sqlalchemy import select

    from server.accounts.models import Department, Role, Staff
    from server.accounts.service import create_staff, set_password
    from server.clock import Clock
    from server.db.engine import Database
    from server.sites.models import Company, Estate

    password = os.environ.get("WUYE_NEW_PASSWORD") or getpass.getpass("password: ")
    db = Database(settings.database_url)
    try:
        async with db.writer() as session:
            if args.action == "add":
                estate = await session.scalar(select(Estate).where(Estate.code == args.estate)) if args.estate else None
                company_id = estate.company_id if estate else await session.scalar(select(Company.id).limit(1))
                if company_id is None:
                    raise SystemExit("wuye: no company yet; run `wuye demo` or import sites first")
                await create_staff(
                    session,
                    clock=Clock(),
                    company_id=company_id,
                    estate_id=estate.id if estate else None,
                    name=args.name,
                    phone=args.phone,
                    role=Role(args.role),
                    department=Department(args.department),
                    password=password,
                )
            else:
                staff = await session.scalar(select(Staff).where(Staff.phone == args.phone))
                if staff is None:
                    raise SystemExit(f"wuye: no staff with phone {args.phone}")
                await set_password(session, staff.id, password, Clock())
            await session.commit()
    finally:
        await db.dispose()
    print("ok")


def cmd_user(args: argparse.Namespace) -> None:
    from server.errors import DomainError

    try:
        asyncio.run(_user(args, _settings()))
    except DomainError as exc:
        raise SystemExit(f"wuye: {exc.code}: {exc.message}") from None


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    _settings()  # fail fast with one clear line
    uvicorn.run("server.asgi:app", host=args.host, port=args.port, workers=args.workers, log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="wuye", description="Wuye Field server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?")
    db.set_defaults(func=cmd_db)

    demo = sub.add_parser("demo", help="load the demo estate (idempotent)")
    demo.set_defaults(func=cmd_demo)

    user = sub.add_parser("user", help="staff accounts")
    user_sub = user.add_subparsers(dest="action", required=True)
    add = user_sub.add_parser("add", help="create a staff account (password from WUYE_NEW_PASSWORD or prompt)")
    add.add_argument("--name", required=True)
    add.add_argument("--phone", required=True)
    add.add_argument(
        "--role", required=True, choices=["admin", "supervisor", "team_lead", "front_desk", "steward", "technician"]
    )
    add.add_argument("--department", default="service")
    add.add_argument("--estate", help="estate code, e.g. CH")
    passwd = user_sub.add_parser("passwd", help="set a staff password (revokes their sessions)")
    passwd.add_argument("--phone", required=True)
    user.set_defaults(func=cmd_user)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
