"""Notification channels beyond Web Push (server/notify): per-estate policy, owner SMS opt-outs,
the short links SMS carry, and the deliveries' new columns (whom, which provider, what it answered,
the reason in Chinese). A delivery to an owner has no in-app notification: notification_id may be NULL.

Revision ID: 0019_notify_channels
Revises: 0018_many_nodes
"""

import sqlalchemy as sa
from alembic import op

from server.db.base import UTCDateTime

revision = "0019_notify_channels"
down_revision = "0018_many_nodes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_policies",
        sa.Column("estate_id", sa.Uuid(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name=op.f("fk_notify_policies_estate_id_estates")),
        sa.ForeignKeyConstraint(["updated_by"], ["staff.id"], name=op.f("fk_notify_policies_updated_by_staff")),
        sa.PrimaryKeyConstraint("estate_id", name=op.f("pk_notify_policies")),
    )
    op.create_table(
        "owner_sms_optouts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("estate_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name=op.f("fk_owner_sms_optouts_estate_id_estates")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_owner_sms_optouts_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_sms_optouts")),
        sa.UniqueConstraint("estate_id", "phone", name=op.f("uq_owner_sms_optouts_estate_id_phone")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("notification_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(sa.Column("estate_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("order_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("audience", sa.String(length=10), nullable=False, server_default="staff"))
        batch_op.add_column(sa.Column("event", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("recipient", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("provider", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("message", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("unless_read", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("answer", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("clicked_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(op.f("fk_deliveries_estate_id_estates"), "estates", ["estate_id"], ["id"])
        batch_op.create_foreign_key(op.f("fk_deliveries_order_id_orders"), "orders", ["order_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_deliveries_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_order_id"), ["order_id"], unique=False)
    op.create_table(
        "sms_short_links",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_sms_short_links_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["deliveries.id"], name=op.f("fk_sms_short_links_delivery_id_deliveries"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_sms_short_links")),
    )
    op.create_index(op.f("ix_sms_short_links_order_id"), "sms_short_links", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sms_short_links_order_id"), table_name="sms_short_links")
    op.drop_table("sms_short_links")
    op.execute("DELETE FROM deliveries WHERE notification_id IS NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_order_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_estate_id"))
        batch_op.drop_constraint(op.f("fk_deliveries_order_id_orders"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_deliveries_estate_id_estates"), type_="foreignkey")
        for column in (
            "clicked_at", "reason", "answer", "unless_read", "message", "provider",
            "recipient", "event", "audience", "order_id", "estate_id",
        ):  # fmt: skip
            batch_op.drop_column(column)
        batch_op.alter_column("notification_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_table("owner_sms_optouts")
    op.drop_table("notify_policies")
