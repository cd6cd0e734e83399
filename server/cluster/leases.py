"""Job leases: of several nodes running the same job loop, one runs each round.

A round is claimed by moving the lease's ``until`` forward, in one conditional UPDATE that only
succeeds if the lease has run out (or is this node's own): the database serialises the claims, so
two nodes never both succeed. The lease lasts the job's interval, so the job runs about once per
interval across the cluster however many nodes there are. A node killed mid-round leaves its lease
to run out; the next claim after that, by any node, runs the job again (every job is idempotent:
the SLA scan, compaction and partial collection each redo only what is still to do).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.cluster.models import JobLease
from server.db.engine import Database


async def claim(db: Database, name: str, holder: str, now: datetime, lasting: float) -> bool:
    """True if ``holder`` may run job ``name`` now (it holds the lease until ``now + lasting``)."""
    until = now + timedelta(seconds=lasting)
    insert = sqlite_insert if db.is_sqlite else pg_insert
    async with db.writer() as session:
        created = await session.execute(
            insert(JobLease)
            .values(name=name, holder=holder, until=until)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        if created.rowcount == 1:
            await session.commit()
            return True
        moved = await session.execute(
            update(JobLease)
            .where(JobLease.name == name, or_(JobLease.until <= now, JobLease.holder == holder))
            .values(holder=holder, until=until)
        )
        await session.commit()
        return moved.rowcount == 1
