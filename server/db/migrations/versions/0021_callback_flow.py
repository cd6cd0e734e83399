"""The callback (回访) flow: ``orders.callback_retry_at``, when a 未联系上 callback is to be tried
again (the 待回访 worklist sorts by it; ``callback_due_at`` keeps the 48 h deadline the KPI
measures), and ``orders.rework_of_id``, the order a 返修 order re-does after 已联系·不满意.

Revision ID: 0021_callback_flow
Revises: 0020_after_hours_duty
"""

import sqlalchemy as sa
from alembic import op

from server.db.base import UTCDateTime

revision = "0021_callback_flow"
down_revision = "0020_after_hours_duty"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (see 0015: batch mode would recreate tables and drop triggers).
    op.add_column("orders", sa.Column("callback_retry_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("orders", sa.Column("rework_of_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_orders_rework_of_id"), "orders", ["rework_of_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_rework_of_id"), table_name="orders")
    op.drop_column("orders", "rework_of_id")
    op.drop_column("orders", "callback_retry_at")
