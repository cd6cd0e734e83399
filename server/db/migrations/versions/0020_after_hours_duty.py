"""After-hours duty (server/duty/): per estate office hours, the on-duty roster (值班表) and the pages
that walk an after-hours complaint or emergency down it.

Revision ID: 0020_after_hours_duty
Revises: 0019_notify_channels
"""

import sqlalchemy as sa
from alembic import op

from server.db.base import UTCDateTime

revision = "0020_after_hours_duty"
down_revision = "0019_notify_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "office_hours",
        sa.Column("estate_id", sa.Uuid(), nullable=False),
        sa.Column("opens", sa.String(length=5), nullable=False),
        sa.Column("closes", sa.String(length=5), nullable=False),
        sa.Column("workdays", sa.String(length=7), nullable=False),
        sa.Column("accept_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name=op.f("fk_office_hours_estate_id_estates")),
        sa.PrimaryKeyConstraint("estate_id", name=op.f("pk_office_hours")),
    )
    op.create_table(
        "duty_shifts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("estate_id", sa.Uuid(), nullable=False),
        sa.Column("duty_date", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name=op.f("fk_duty_shifts_estate_id_estates")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_duty_shifts_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
        sa.UniqueConstraint(
            "estate_id", "duty_date", "shift", "position", name=op.f("uq_duty_shifts_estate_id_duty_date_shift_position")
        ),
    )
    op.create_table(
        "duty_pages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("duty_date", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=10), nullable=False),
        sa.Column("offered_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_duty_pages_order_id_orders")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_duty_pages_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_pages")),
        sa.UniqueConstraint("order_id", "attempt", name=op.f("uq_duty_pages_order_id_attempt")),
    )
    op.create_index("ix_duty_pages_open_due", "duty_pages", ["closed_at", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_duty_pages_open_due", table_name="duty_pages")
    op.drop_table("duty_pages")
    op.drop_table("duty_shifts")
    op.drop_table("office_hours")
