"""Effective time of order events and steps (server/clock.py): when an act counts for timelines, SLA
and KPIs, beside the receive time and the raw device time kept as evidence. Existing rows count when
they were received (events) or at their capture time clamped to the receipt (steps), as before.

Revision ID: 0011_i17a
Revises: 0010_change_record_index
"""

import sqlalchemy as sa
from alembic import op

from server.db.base import UTCDateTime

revision = "0011_i17a"
down_revision = "0010_change_record_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_events") as batch:
        batch.add_column(sa.Column("effective_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("order_steps") as batch:
        batch.add_column(sa.Column("effective_at", UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE order_events SET effective_at = server_time")
    op.execute(
        "UPDATE order_steps SET effective_at = CASE WHEN skew_flag OR captured_at > received_at"
        " THEN received_at ELSE captured_at END"
    )
    with op.batch_alter_table("order_events") as batch:
        batch.alter_column("effective_at", nullable=False)
    with op.batch_alter_table("order_steps") as batch:
        batch.alter_column("effective_at", nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("order_steps") as batch:
        batch.drop_column("effective_at")
    with op.batch_alter_table("order_events") as batch:
        batch.drop_column("effective_at")
