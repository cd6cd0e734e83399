"""households.occupied / resident (the denominators of 业主月度互动率 and 便民服务覆盖率), the estate's
response-speed baseline period, and indexes for the ratings given and callbacks made in a month (the
interactions 互动率 counts; without them the query walks every order of the estate).

Existing households count as occupied and resident until an import says otherwise: every flat the
estate has loaded so far was treated as lived in.

Revision ID: 0022_household_flags_baseline
Revises: 0021_callback_flow
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_household_flags_baseline"
down_revision = "0021_callback_flow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("occupied", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("resident", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("estates") as batch:
        batch.add_column(sa.Column("response_baseline_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("response_baseline_to", sa.Date(), nullable=True))
    op.create_index("ix_order_ratings_given", "order_ratings", ["estate_id", "created_at"])
    op.create_index("ix_order_callbacks_created", "order_callbacks", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_order_callbacks_created", table_name="order_callbacks")
    op.drop_index("ix_order_ratings_given", table_name="order_ratings")
    with op.batch_alter_table("estates") as batch:
        batch.drop_column("response_baseline_to")
        batch.drop_column("response_baseline_from")
    with op.batch_alter_table("households") as batch:
        batch.drop_column("resident")
        batch.drop_column("occupied")
