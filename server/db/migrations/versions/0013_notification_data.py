"""notifications.data: the parameters of a notification's text (order number, kind, stage, deadline,
household), so a phone in English writes it in English instead of showing the stored Chinese.

Revision ID: 0013_notification_data
Revises: 0012_estate_hotline
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_notification_data"
down_revision = "0012_estate_hotline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("data", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("data")
