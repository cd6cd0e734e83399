"""grids.poster_key: a per-grid key mixed into the poster token, so a leaked poster can be rotated

Empty for every existing grid: the tokens printed so far keep working until a supervisor rotates.

Revision ID: 0014_poster_key
Revises: 0013_notification_data
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_poster_key"
down_revision = "0013_notification_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grids") as batch:
        batch.add_column(sa.Column("poster_key", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("grids") as batch:
        batch.drop_column("poster_key")
