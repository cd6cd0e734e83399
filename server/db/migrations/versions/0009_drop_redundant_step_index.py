"""Drop ix_order_steps_order_id: the unique (order_id, position) and (order_id, chain_index) indexes
both begin with order_id, so every lookup by order already has an index, and each step inserted
paid for a third copy of its order id (~1 ms of a 100-step push on SQLite)

Revision ID: 0009_step_index
Revises: 0008_photo_refs
"""

from alembic import op

revision = "0009_step_index"
down_revision = "0008_photo_refs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain DROP INDEX (not batch mode, which would recreate the table and lose its triggers).
    op.drop_index("ix_order_steps_order_id", table_name="order_steps")


def downgrade() -> None:
    op.create_index("ix_order_steps_order_id", "order_steps", ["order_id"], unique=False)
