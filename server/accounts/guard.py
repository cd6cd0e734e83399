"""The one check for every id a request carries before anything refers to it in storage.

An estate, grid, building, unit, household or staff id sent by a client is looked up and must be
(1) in the caller's company, (2) in the estate the written record belongs to (when the caller names
that estate) and (3) visible to the caller (their estate; their grids for a steward). Anything else
is answered **404 ``not_found``**, exactly as if the id did not exist: a 403 would tell a caller
that a record exists in an estate they may not see. Services call these functions instead of
repeating ``session.get`` + comparisons, so a new write path gets the same rule by using them.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import Staff
from server.accounts.scope import Actor, Scope
from server.errors import DomainError, NotFound
from server.sites.models import Building, Estate, Grid, Household, Unit

T = TypeVar("T")

WHAT = {Estate: "estate", Grid: "grid", Building: "building", Unit: "unit", Household: "household", Staff: "staff"}


async def _placed(session: AsyncSession, row) -> tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]:
    """(company, estate, grid) of a stored record; grid None for records that are estate-wide."""
    if isinstance(row, Staff):
        return row.company_id, row.estate_id, None
    if isinstance(row, Estate):
        return row.company_id, row.id, None
    if isinstance(row, Unit):
        building = await session.get(Building, row.building_id)
        estate_id, grid_id = building.estate_id, building.grid_id
    elif isinstance(row, Grid):
        estate_id, grid_id = row.estate_id, row.id
    else:
        estate_id, grid_id = row.estate_id, row.grid_id
    estate = await session.get(Estate, estate_id)
    return estate.company_id, estate_id, grid_id


async def in_scope(
    session: AsyncSession,
    actor: Actor | None,
    model: type[T],
    record_id: uuid.UUID,
    *,
    estate_id: uuid.UUID | None = None,
    what: str | None = None,
) -> T:
    """The record, or 404 when it does not exist, lies outside ``estate_id`` (when given) or outside
    what ``actor`` may see. ``actor`` None is the public side (owner forms): only the estate counts."""
    row = await session.get(model, record_id)
    if row is None:
        raise NotFound(what or WHAT.get(model, model.__name__.lower()))
    company_id, row_estate, row_grid = await _placed(session, row)
    if estate_id is not None and row_estate != estate_id:
        raise NotFound(what or WHAT.get(model, model.__name__.lower()))
    if actor is not None:
        if company_id != actor.company_id:
            raise NotFound(what or WHAT.get(model, model.__name__.lower()))
        if row_estate is None:
            visible = actor.scope is Scope.everything
        elif row_grid is None:
            visible = actor.sees_estate(row_estate)
        else:
            visible = actor.sees_grid(row_estate, row_grid)
        if not visible:
            raise NotFound(what or WHAT.get(model, model.__name__.lower()))
    return row


async def all_in_scope(
    session: AsyncSession, actor: Actor | None, model: type[T], ids, *, estate_id: uuid.UUID | None
) -> list[T]:
    """Each of ``ids`` through :func:`in_scope` (duplicates once), in the order given."""
    return [await in_scope(session, actor, model, i, estate_id=estate_id) for i in dict.fromkeys(ids)]


async def estate_asked(session: AsyncSession, actor: Actor, estate_id: uuid.UUID | None) -> uuid.UUID:
    """The estate a read names (``?estate_id=``), or the caller's own. Through :func:`in_scope`, so an
    admin sees every estate of his company and none of another's; 422 when an admin names none."""
    target = estate_id or actor.estate_id
    if target is None:
        raise DomainError("estate_required", "name the estate (?estate_id=…)", status=422)
    return (await in_scope(session, actor, Estate, target)).id
