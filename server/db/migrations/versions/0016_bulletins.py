"""bulletins: 园区周报, one per estate and China-time week (server/bulletins)

Revision ID: 0016_bulletins
Revises: 0015_effective_time_routing
"""

import sqlalchemy as sa
from alembic import op

from server.db.base import UTCDateTime

revision = "0016_bulletins"
down_revision = "0015_effective_time_routing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("estate_id", sa.Uuid(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("plans", sa.JSON(), nullable=False),
        sa.Column("highlights", sa.JSON(), nullable=False),
        sa.Column("published", sa.JSON(), nullable=True),
        sa.Column("share_key", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=True),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name=op.f("fk_bulletins_estate_id_estates")),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_bulletins_created_by_staff")),
        sa.ForeignKeyConstraint(["updated_by"], ["staff.id"], name=op.f("fk_bulletins_updated_by_staff")),
        sa.ForeignKeyConstraint(["published_by"], ["staff.id"], name=op.f("fk_bulletins_published_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
        sa.UniqueConstraint("estate_id", "week_start", name=op.f("uq_bulletins_estate_id_week_start")),
    )
    op.create_index(op.f("ix_bulletins_estate_id"), "bulletins", ["estate_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bulletins_estate_id"), table_name="bulletins")
    op.drop_table("bulletins")
