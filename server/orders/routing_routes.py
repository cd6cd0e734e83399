"""Routing rules per estate: the desk reads them (and the staffed queues and eligible handlers);
supervisors change them (console admin screen)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Router, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Department
from server.accounts.scope import ESTATE_STAFF, MANAGERS, Actor
from server.orders import routing
from server.orders.models import Category, Kind
from server.wire import Wire


class RuleIn(Wire):
    department: Department | None = None
    handler_id: uuid.UUID | None = None


@get("/")
async def get_routing(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    estate_id: Annotated[uuid.UUID | None, QueryParameter(name="estate_id")] = None,
    kind: Annotated[Kind | None, QueryParameter(name="kind")] = None,
) -> dict:
    """Each category's rule and current route, the queues that have members, and the people an
    order of ``kind`` may be given to (``handlers``)."""
    actor.require_role(*ESTATE_STAFF)
    estate = await guard.estate_asked(db, actor, estate_id)
    out = await routing.overview(db, estate)
    if kind is not None:
        people = await routing.handlers(db, estate, kind)
        out["handlers"] = [
            {"id": str(p.id), "name": p.name, "role": str(p.role), "department": str(p.department)} for p in people
        ]
    return out


@put("/{category:str}", status_code=200)
async def put_rule(
    category: FromPath[Category],
    data: JSONBody[RuleIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
    estate_id: Annotated[uuid.UUID | None, QueryParameter(name="estate_id")] = None,
) -> dict:
    actor.require_role(*MANAGERS)
    estate = await guard.estate_asked(tx, actor, estate_id)
    department = str(data.department) if data.department else None
    await routing.set_rule(tx, estate, category, department=department, handler_id=data.handler_id)
    await tx.commit()
    return await routing.overview(tx, estate)


routing_router = Router(path="/api/routing", route_handlers=[get_routing, put_rule], tags=["routing"])
