"""KPI indexes: a covering index on orders (replaces ix_orders_estate_created, its prefix), and the
rated order's estate and creation time on each rating, indexed

Revision ID: 0007_kpi_index
Revises: 0006_walks
"""

import sqlalchemy as sa
from alembic import op

from server.db.base import UTCDateTime

revision = "0007_kpi_index"
down_revision = "0006_walks"
branch_labels = None
depends_on = None

# Spelled out rather than imported from the models: a migration must not change when the models do.
KPI_INDEX_COLUMNS = [
    "estate_id",
    "created_at",
    "kind",
    "category",
    "status",
    "grid_id",
    "department",
    "accepted_at",
    "completed_at",
    "repeat_of_id",
    "contact_late",
    "resolve_late",
    "due_at",
    "id",
]


def upgrade() -> None:
    op.create_index("ix_orders_kpi", "orders", KPI_INDEX_COLUMNS)
    op.drop_index("ix_orders_estate_created", table_name="orders")
    with op.batch_alter_table("order_ratings") as batch:
        batch.add_column(sa.Column("estate_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("order_created_at", UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE order_ratings SET"
        " estate_id = (SELECT o.estate_id FROM orders o WHERE o.id = order_ratings.order_id),"
        " order_created_at = (SELECT o.created_at FROM orders o WHERE o.id = order_ratings.order_id)"
    )
    with op.batch_alter_table("order_ratings") as batch:
        batch.alter_column("estate_id", existing_type=sa.Uuid(), nullable=False)
        batch.alter_column("order_created_at", existing_type=UTCDateTime(timezone=True), nullable=False)
        batch.create_foreign_key("fk_order_ratings_estate_id_estates", "estates", ["estate_id"], ["id"])
        batch.create_index("ix_order_ratings_kpi", ["estate_id", "order_created_at", "level"])


def downgrade() -> None:
    with op.batch_alter_table("order_ratings") as batch:
        batch.drop_index("ix_order_ratings_kpi")
        batch.drop_constraint("fk_order_ratings_estate_id_estates", type_="foreignkey")
        batch.drop_column("order_created_at")
        batch.drop_column("estate_id")
    op.create_index("ix_orders_estate_created", "orders", ["estate_id", "created_at"])
    op.drop_index("ix_orders_kpi", table_name="orders")
