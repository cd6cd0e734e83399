"""The short order record every desk view shows (board cards, drill-down rows, household history)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.orders.models import Order, Status
from server.sites.models import Household

DUE_SOON = timedelta(minutes=30)
FINAL = (Status.closed, Status.cancelled)


def _t(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def sla_state(order: Order, now: datetime) -> str | None:
    """overdue (red) / due_soon (within 30 min) / ok, or None when no deadline is running."""
    if order.due_at is None or order.status in FINAL:
        return None
    if order.due_at < now:
        return "overdue"
    return "due_soon" if order.due_at < now + DUE_SOON else "ok"


async def staff_names(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict((await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted)))).all())


async def household_labels(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict((await session.execute(select(Household.id, Household.label).where(Household.id.in_(wanted)))).all())


def summary(o: Order, names: dict, labels: dict, now: datetime) -> dict[str, Any]:
    return {
        "id": str(o.id),
        "number": o.number,
        "kind": str(o.kind),
        "category": str(o.category),
        "priority": o.priority,
        "status": str(o.status),
        "household_id": str(o.household_id) if o.household_id else None,
        "household_label": labels.get(o.household_id, "") or o.location,
        "location": o.location,
        "description": o.description[:80],
        "department": o.department,
        "assignee_id": str(o.assignee_id) if o.assignee_id else None,
        "assignee_name": names.get(o.assignee_id, ""),
        "created_at": _t(o.created_at),
        "due_at": _t(o.due_at),
        "due_stage": o.due_stage,
        "sla": sla_state(o, now),
        "repeat": o.repeat_of_id is not None,
        "version": o.chain_length,
    }


async def summaries(session: AsyncSession, orders: list[Order], now: datetime) -> list[dict[str, Any]]:
    names = await staff_names(session, (o.assignee_id for o in orders))
    labels = await household_labels(session, (o.household_id for o in orders))
    return [summary(o, names, labels, now) for o in orders]
