"""The walk records phones replicate (see server/syncing/tables.py): a steward receives those of her
grids, estate staff those of their estate, technicians none."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.scope import Actor
from server.walks.service import may_read
from server.walks.views import checkpoints_by_id, findings_by_id, visits_by_id, walks_by_id

SYNC_TABLES = {
    "checkpoints": checkpoints_by_id,
    "walks": walks_by_id,
    "checkpoint_visits": visits_by_id,
    "findings": findings_by_id,
}


async def visible(session: AsyncSession, actor: Actor, table: str, records: list[dict]) -> set[str]:
    """Scope is re-tested at pull time from the record's estate and grid (every walk record has both)."""
    return {r["id"] for r in records if may_read(actor, uuid.UUID(r["estate_id"]), uuid.UUID(r["grid_id"]))}
