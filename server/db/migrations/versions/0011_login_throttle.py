"""Login throttling per (phone, source) and known devices: a ``source`` column on login_attempts
(``ip:<address>`` or ``device:<sha256>``) and the known_devices table, so five wrong passwords
from strangers no longer lock an account's owner out of it.

Revision ID: 0011_login_throttle
Revises: 0010_change_record_index
"""

import sqlalchemy as sa
from alembic import op

import server.db.base

revision = "0011_login_throttle"
down_revision = "0010_change_record_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=80), server_default="", nullable=False))
        batch_op.create_index("ix_login_attempts_phone_source_at", ["phone", "source", "at"], unique=False)
    op.create_table(
        "known_devices",
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("last_login_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_known_devices_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", "device_hash", name=op.f("pk_known_devices")),
    )


def downgrade() -> None:
    op.drop_table("known_devices")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_phone_source_at")
        batch_op.drop_column("source")
