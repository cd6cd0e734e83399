from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Router, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.errors import NotFound
from server.sites import service
from server.sites.models import Estate, Grid, Household
from server.sites.schemas import EstateOut, EstateSettingsIn, GridOut, HouseholdOut


def household_out(h: Household) -> HouseholdOut:
    return HouseholdOut(
        id=h.id,
        estate_id=h.estate_id,
        grid_id=h.grid_id,
        label=h.label,
        room=h.room,
        owner_name=h.owner_name,
        owner_phone=h.owner_phone,
    )


@get("/estates")
async def list_estates(actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]) -> list[EstateOut]:
    return [estate_out(e) for e in await service.estates(db, actor)]


def estate_out(e: Estate) -> EstateOut:
    return EstateOut(id=e.id, name=e.name, code=e.code, address=e.address, hotline=e.hotline)


@put("/estates/{estate_id:uuid}/settings")
async def set_estate_settings(
    estate_id: FromPath[uuid.UUID],
    data: JSONBody[EstateSettingsIn],
    actor: NamedDependency[Actor],
    tx: NamedDependency[AsyncSession],
) -> EstateOut:
    estate = await service.set_estate_hotline(tx, actor, estate_id, data.hotline)
    await tx.commit()
    return estate_out(estate)


@get("/grids")
async def list_grids(actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]) -> list[GridOut]:
    return [
        GridOut(id=g.id, estate_id=g.estate_id, name=g.name, households=n) for g, n in await service.grids(db, actor)
    ]


@get("/grids/{grid_id:uuid}/households")
async def grid_households(
    grid_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]
) -> list[HouseholdOut]:
    grid = await db.get(Grid, grid_id)
    if grid is None or not actor.sees_grid(grid.estate_id, grid.id):
        raise NotFound("grid")
    return [household_out(h) for h in await service.households(db, actor, grid_id=grid_id, limit=2000)]


@get("/households")
async def search_households(
    actor: NamedDependency[Actor],
    db: NamedDependency[AsyncSession],
    q: Annotated[str | None, QueryParameter(max_length=50)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> list[HouseholdOut]:
    return [household_out(h) for h in await service.households(db, actor, q=q, limit=limit)]


@get("/households/{household_id:uuid}")
async def get_household(
    household_id: FromPath[uuid.UUID], actor: NamedDependency[Actor], db: NamedDependency[AsyncSession]
) -> HouseholdOut:
    return household_out(await service.household(db, actor, household_id))


sites_router = Router(
    path="/api",
    route_handlers=[list_estates, set_estate_settings, list_grids, grid_households, search_households, get_household],
    tags=["sites"],
)
