"""Record shapes of the walk tables, shared by the HTTP API and sync pull (``checkpoints``, ``walks``,
``checkpoint_visits``, ``findings``; PROTOCOL.md §5). A finding's order number and status are read
at load time; ``lifecycle.publish`` re-sends the finding whenever its order changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.accounts.scope import Actor
from server.orders.models import Order
from server.orders.views import uploaded
from server.walks.models import Checkpoint, CheckpointVisit, Finding, Walk, WalkRoute


def _t(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def _s(v) -> str | None:
    return str(v) if v is not None else None


async def _names(session: AsyncSession, ids: set) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))).all())


def checkpoint_dict(c: Checkpoint, route_names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "estate_id": str(c.estate_id),
        "grid_id": str(c.grid_id),
        "route_id": str(c.route_id),
        "route_name": route_names.get(c.route_id, ""),
        "name": c.name,
        "location": c.location,
        "code": c.code,
        "checklist": [dict(i) for i in c.checklist or []],
        "checklist_type": c.checklist_type,
        "frequency": dict(c.frequency),
        "position": c.position,
        "active": c.active,
    }


async def checkpoints_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Checkpoint).where(Checkpoint.id.in_(ids)).order_by(Checkpoint.position))).all()
    routes = {r.route_id for r in rows}
    names = (
        dict((await session.execute(select(WalkRoute.id, WalkRoute.name).where(WalkRoute.id.in_(routes)))).all())
        if routes
        else {}
    )
    return [checkpoint_dict(c, names) for c in rows]


async def walks_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Walk).where(Walk.id.in_(ids)))).all()
    if not rows:
        return []
    wids = [w.id for w in rows]
    visits = dict(
        (
            await session.execute(
                select(CheckpointVisit.walk_id, func.count())
                .where(CheckpointVisit.walk_id.in_(wids))
                .group_by(CheckpointVisit.walk_id)
            )
        ).all()
    )
    findings = dict(
        (
            await session.execute(
                select(Finding.walk_id, func.count()).where(Finding.walk_id.in_(wids)).group_by(Finding.walk_id)
            )
        ).all()
    )
    names = await _names(session, {w.steward_id for w in rows})
    return [
        {
            "id": str(w.id),
            "estate_id": str(w.estate_id),
            "grid_id": str(w.grid_id),
            "steward_id": str(w.steward_id),
            "steward_name": names.get(w.steward_id, ""),
            "status": w.status,
            "started_at": _t(w.started_at),
            "ended_at": _t(w.ended_at),
            "received_at": _t(w.received_at),
            "visit_count": visits.get(w.id, 0),
            "finding_count": findings.get(w.id, 0),
            "skew_flag": w.skew_flag,
        }
        for w in rows
    ]


async def visits_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(CheckpointVisit).where(CheckpointVisit.id.in_(ids)))).all()
    if not rows:
        return []
    cps = {
        c.id: c
        for c in (
            await session.scalars(select(Checkpoint).where(Checkpoint.id.in_({v.checkpoint_id for v in rows})))
        ).all()
    }
    arrived = await uploaded(session, {p for v in rows for a in v.answers or [] for p in a.get("photos", [])})
    out = []
    for v in rows:
        cp = cps.get(v.checkpoint_id)
        labels = {i["key"]: i["label"] for i in (cp.checklist if cp else [])}
        out.append(
            {
                "id": str(v.id),
                "walk_id": str(v.walk_id),
                "checkpoint_id": str(v.checkpoint_id),
                "checkpoint_name": cp.name if cp else "",
                "estate_id": str(v.estate_id),
                "grid_id": str(v.grid_id),
                "method": v.method,
                "visited_at": _t(v.visited_at),
                "received_at": _t(v.received_at),
                "counted_at": _t(v.counted_at),
                "answers": [
                    {
                        "item": a["item"],
                        "label": labels.get(a["item"], a["item"]),
                        "ok": a["ok"],
                        "note": a.get("note", ""),
                        "photos": [{"sha256": p, "uploaded": p in arrived} for p in a.get("photos", [])],
                    }
                    for a in v.answers or []
                ],
                "failed_count": v.failed_count,
                "skew_flag": v.skew_flag,
            }
        )
    return out


async def findings_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Finding).where(Finding.id.in_(ids)))).all()
    if not rows:
        return []
    order_ids = {f.order_id for f in rows if f.order_id}
    orders = (
        {
            o.id: (o.number, str(o.status))
            for o in (await session.scalars(select(Order).where(Order.id.in_(order_ids)))).all()
        }
        if order_ids
        else {}
    )
    names = await _names(session, {f.author_id for f in rows})
    arrived = await uploaded(session, {p for f in rows for p in f.photos or []})
    return [
        {
            "id": str(f.id),
            "walk_id": _s(f.walk_id),
            "estate_id": str(f.estate_id),
            "grid_id": str(f.grid_id),
            "category": f.category,
            "note": f.note,
            "photos": [{"sha256": p, "uploaded": p in arrived} for p in f.photos or []],
            "location": f.location,
            "captured_at": _t(f.captured_at),
            "received_at": _t(f.received_at),
            "author_id": str(f.author_id),
            "author_name": names.get(f.author_id, ""),
            "order_id": _s(f.order_id),
            "order_number": orders.get(f.order_id, (None, None))[0],
            "order_status": orders.get(f.order_id, (None, None))[1],
            "skew_flag": f.skew_flag,
        }
        for f in rows
    ]


async def walk_detail(session: AsyncSession, walk: Walk) -> dict[str, Any]:
    [row] = await walks_by_id(session, [walk.id])
    visit_ids = list(
        (
            await session.scalars(
                select(CheckpointVisit.id)
                .where(CheckpointVisit.walk_id == walk.id)
                .order_by(CheckpointVisit.counted_at)
            )
        ).all()
    )
    finding_ids = list(
        (
            await session.scalars(select(Finding.id).where(Finding.walk_id == walk.id).order_by(Finding.captured_at))
        ).all()
    )
    visits = {r["id"]: r for r in await visits_by_id(session, visit_ids)}
    findings = {r["id"]: r for r in await findings_by_id(session, finding_ids)}
    row["visits"] = [visits[str(i)] for i in visit_ids]
    row["findings"] = [findings[str(i)] for i in finding_ids]
    return row


async def list_walks(
    session: AsyncSession,
    actor: Actor,
    *,
    grid_id: uuid.UUID | None = None,
    steward_id: uuid.UUID | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    stmt = select(Walk.id).where(actor.where_grid(Walk.estate_id, Walk.grid_id))
    if grid_id:
        stmt = stmt.where(Walk.grid_id == grid_id)
    if steward_id:
        stmt = stmt.where(Walk.steward_id == steward_id)
    if start:
        stmt = stmt.where(Walk.started_at >= start)
    if end:
        stmt = stmt.where(Walk.started_at < end)
    ids = list((await session.scalars(stmt.order_by(Walk.started_at.desc()).limit(limit))).all())
    rows = {r["id"]: r for r in await walks_by_id(session, ids)}
    return [rows[str(i)] for i in ids]


async def list_routes(session: AsyncSession, actor: Actor, grid_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    stmt = select(WalkRoute).where(actor.where_grid(WalkRoute.estate_id, WalkRoute.grid_id))
    if grid_id:
        stmt = stmt.where(WalkRoute.grid_id == grid_id)
    routes = (await session.scalars(stmt.order_by(WalkRoute.created_at))).all()
    out = []
    for r in routes:
        cp_ids = list((await session.scalars(select(Checkpoint.id).where(Checkpoint.route_id == r.id))).all())
        out.append(
            {
                "id": str(r.id),
                "estate_id": str(r.estate_id),
                "grid_id": str(r.grid_id),
                "name": r.name,
                "created_at": _t(r.created_at),
                "checkpoints": await checkpoints_by_id(session, cp_ids),
            }
        )
    return out
