"""Per-estate SLA policy: read the effective minutes per kind; supervisors change them."""

from __future__ import annotations

import uuid

from litestar import Router, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.scope import MANAGERS, Actor
from server.orders import sla
from server.orders.models import Kind, SlaPolicy
from server.orders.schemas import SlaPolicyIn
from server.sites.models import Estate


async def _effective(session: AsyncSession, estate_id: uuid.UUID) -> list[dict]:
    out = []
    for kind in Kind:
        p = await sla.policy_for(session, estate_id, kind)
        out.append(
            {
                "kind": kind.value,
                "contact_minutes": p.contact,
                "update_minutes": p.update,
                "resolve_minutes": p.resolve,
                "callback_minutes": p.callback,
            }
        )
    return out


@get("/{estate_id:uuid}/sla-policy")
async def get_policy(
    estate_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]
) -> list[dict]:
    await guard.in_scope(db, actor, Estate, estate_id)
    return await _effective(db, estate_id)


@put("/{estate_id:uuid}/sla-policy", status_code=200)
async def set_policy(
    estate_id: FromPath[uuid.UUID],
    data: JSONBody[SlaPolicyIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
) -> list[dict]:
    """Applies to orders created from now on; open orders keep the deadlines they were given."""
    await guard.in_scope(tx, actor, Estate, estate_id)
    actor.require_role(*MANAGERS)
    row = await tx.scalar(select(SlaPolicy).where(SlaPolicy.estate_id == estate_id, SlaPolicy.kind == data.kind))
    if row is None:
        row = SlaPolicy(estate_id=estate_id, kind=data.kind)
        tx.add(row)
    row.contact_minutes, row.update_minutes = data.contact_minutes, data.update_minutes
    row.resolve_minutes, row.callback_minutes = data.resolve_minutes, data.callback_minutes
    await tx.commit()
    return await _effective(tx, estate_id)


sla_router = Router(path="/api/estates", route_handlers=[get_policy, set_policy], tags=["sla"])
