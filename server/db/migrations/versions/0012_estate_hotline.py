"""estates.hotline: the estate's service-centre phone (物业服务中心电话), printed on the grid posters
next to the steward's number so an owner always has a number that answers.

Revision ID: 0012_estate_hotline
Revises: 0011_login_throttle
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_estate_hotline"
down_revision = "0011_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("estates") as batch:
        batch.add_column(sa.Column("hotline", sa.String(30), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("estates") as batch:
        batch.drop_column("hotline")
