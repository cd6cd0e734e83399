"""Reading the site tree within an actor's scope, and the estate settings its supervisor keeps."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import guard
from server.accounts.models import Role
from server.accounts.scope import Actor, Scope
from server.errors import NotFound
from server.sites.models import Estate, Grid, Household


async def estates(session: AsyncSession, actor: Actor) -> list[Estate]:
    return list(
        (await session.scalars(select(Estate).where(actor.where_estate(Estate.id)).order_by(Estate.name))).all()
    )


async def grids(session: AsyncSession, actor: Actor) -> list[tuple[Grid, int]]:
    clause = actor.where_grid(Grid.estate_id, Grid.id)
    counts = select(Household.grid_id, func.count().label("n")).group_by(Household.grid_id).subquery()
    rows = await session.execute(
        select(Grid, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.grid_id == Grid.id)
        .where(clause)
        .order_by(Grid.name)
    )
    return [(g, n) for g, n in rows]


async def household(session: AsyncSession, actor: Actor, household_id: uuid.UUID) -> Household:
    """One household, or 404 when it does not exist *or* is outside the actor's scope (no oracle)."""
    row = await session.get(Household, household_id)
    if row is None or actor.scope is Scope.assignments or not actor.sees_grid(row.estate_id, row.grid_id):
        raise NotFound("household")
    return row


async def households(
    session: AsyncSession, actor: Actor, *, grid_id: uuid.UUID | None = None, q: str | None = None, limit: int = 50
) -> list[Household]:
    """Households in scope, optionally in one grid, matching ``q`` on label, owner name or phone."""
    if actor.scope is Scope.assignments:
        return []
    stmt = select(Household).where(actor.where_grid(Household.estate_id, Household.grid_id))
    if grid_id is not None:
        stmt = stmt.where(Household.grid_id == grid_id)
    if q:
        compact = q.replace(" ", "")
        like = f"%{compact}%"
        stmt = stmt.where(
            or_(Household.label.like(like), Household.owner_name.like(like), Household.owner_phone.like(like))
        )
    return list((await session.scalars(stmt.order_by(Household.label).limit(limit))).all())


async def set_estate_hotline(session: AsyncSession, actor: Actor, estate_id: uuid.UUID, hotline: str) -> Estate:
    """A supervisor (her own estate) or an admin sets the estate's service-centre phone."""
    actor.require_role(Role.supervisor, Role.admin)
    estate = await guard.in_scope(session, actor, Estate, estate_id)
    estate.hotline = " ".join(hotline.split())
    return estate
