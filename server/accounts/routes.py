"""Staff auth and accounts over HTTP (thin: parse, authorise, call, render)."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import timedelta

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard, service, throttle
from server.accounts.models import Role, Staff, StaffGrid
from server.accounts.schemas import LoginIn, LoginOut, PasswordChangeIn, PasswordResetIn, StaffCreateIn, StaffOut
from server.accounts.scope import MANAGERS, Actor, outranks
from server.errors import Forbidden
from server.web.context import AppContext


def login_policy(ctx: AppContext) -> service.LoginPolicy:
    s = ctx.settings
    return service.LoginPolicy(
        token_ttl=timedelta(hours=s.token_ttl_hours),
        max_failures_per_phone=s.login_max_failures_per_phone,
        max_failures_per_ip=s.login_max_failures_per_ip,
        window=timedelta(minutes=s.login_window_minutes),
    )


def staff_out(staff: Staff, grid_ids) -> StaffOut:
    return StaffOut(
        id=staff.id,
        name=staff.name,
        role=staff.role,
        department=staff.department,
        phone=staff.phone,
        estate_id=staff.estate_id,
        grid_ids=sorted(grid_ids),
    )


_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")
DEVICE_COOKIE_DAYS = 400  # browsers cap cookie lifetimes at about 400 days


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _device_cookie(request: Request, ctx: AppContext, value: str) -> Cookie:
    return Cookie(
        key=throttle.DEVICE_COOKIE,
        value=value,
        path="/api/auth",
        max_age=DEVICE_COOKIE_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.base_url.startswith("https://"),
    )


@post("/login", status_code=200)
async def login(
    request: Request, data: JSONBody[LoginIn], tx: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> Response[LoginOut]:
    """Sign in. The answer sets ``wuye_device``, a random id of this browser: once it has signed in to
    an account, strangers' wrong passwords for that phone slow it but cannot lock it out."""
    device = request.cookies.get(throttle.DEVICE_COOKIE, "")
    if not _DEVICE_ID.match(device):
        device = secrets.token_urlsafe(32)
    token, row, staff = await service.login(
        tx,
        phone=data.phone,
        password=data.password,
        ip=_ip(request),
        device_name=data.device_name,
        clock=ctx.clock,
        policy=login_policy(ctx),
        device_cookie=device,
    )
    actor = await service.actor_for(tx, staff)
    await tx.commit()
    return Response(
        LoginOut(token=token, expires_at=row.expires_at, staff=staff_out(staff, actor.grid_ids)),
        cookies=[_device_cookie(request, ctx, device)],
    )


@post("/logout", status_code=200)
async def logout(
    actor: NamedDependency[Actor], tx: NamedDependency[AsyncSession], ctx: NamedDependency[AppContext]
) -> dict:
    await service.logout(tx, actor.token_id, ctx.clock)
    await tx.commit()
    return {"ok": True}


@post("/password", status_code=200)
async def change_password(
    request: Request,
    data: JSONBody[PasswordChangeIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    await service.change_own_password(
        tx,
        actor,
        data.old_password,
        data.new_password,
        ctx.clock,
        ip=_ip(request),
        policy=login_policy(ctx).throttle,
    )
    await tx.commit()
    return {"ok": True, "message": "password changed; every session was signed out"}


@get("/me")
async def me(actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]) -> StaffOut:
    staff = await db.get(Staff, actor.staff_id)
    return staff_out(staff, actor.grid_ids)


async def _grids_of(db: AsyncSession, staff_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await db.execute(select(StaffGrid.staff_id, StaffGrid.grid_id).where(StaffGrid.staff_id.in_(staff_ids)))
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    for staff_id, grid_id in rows:
        out.setdefault(staff_id, []).append(grid_id)
    return out


@get("/staff")
async def list_staff(actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]) -> list[StaffOut]:
    """Colleagues in the actor's estate (names and phones are needed to dispatch and call)."""
    rows = (
        await db.scalars(select(Staff).where(actor.where_estate(Staff.estate_id), Staff.active).order_by(Staff.name))
    ).all()
    grids = await _grids_of(db, [s.id for s in rows])
    return [staff_out(s, grids.get(s.id, [])) for s in rows]


@post("/staff", status_code=201)
async def create_staff(
    data: JSONBody[StaffCreateIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> StaffOut:
    actor.require_role(*MANAGERS)
    if data.role is Role.admin and actor.role is not Role.admin:
        raise Forbidden("only an admin may create an admin")
    staff = await service.create_staff(
        tx,
        clock=ctx.clock,
        company_id=actor.company_id,
        actor=actor,
        estate_id=data.estate_id if actor.role is Role.admin else data.estate_id or actor.estate_id,
        name=data.name,
        phone=data.phone,
        role=data.role,
        department=data.department,
        password=data.password,
        grid_ids=data.grid_ids,
        gold=data.gold,
    )
    await tx.commit()
    return staff_out(staff, data.grid_ids)


@post("/staff/{staff_id:uuid}/password", status_code=200)
async def reset_password(
    staff_id: FromPath[uuid.UUID],
    data: JSONBody[PasswordResetIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    ctx: NamedDependency[AppContext],
) -> dict:
    """A manager sets a new password for someone below them in the role order (a forgotten password).
    Their own password they change through ``/api/auth/password``, with the old one."""
    actor.require_role(*MANAGERS)
    staff = await guard.in_scope(tx, actor, Staff, staff_id)
    if staff.id == actor.staff_id:
        raise Forbidden("change your own password under 修改密码 with your current one", code="own_password")
    if not outranks(actor.role, staff.role):
        raise Forbidden("you may only reset the password of staff below your role", code="not_below_you")
    await service.set_password(tx, staff_id, data.new_password, ctx.clock)
    await tx.commit()
    return {"ok": True}


auth_router = Router(path="/api/auth", route_handlers=[login, logout, change_password], tags=["auth"])
accounts_router = Router(path="/api", route_handlers=[me, list_staff, create_staff, reset_password], tags=["accounts"])
