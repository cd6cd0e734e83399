"""notifications.data: the parameters of a notification's text (order number, kind, stage, deadline,
household), so a phone in English writes it in English instead of showing the stored Chinese.

Revision ID: 0011_i17b
Revises: 0010_change_record_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_i17b"
down_revision = "0010_change_record_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("data", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("data")
