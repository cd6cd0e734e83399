"""households.occupied / resident (the denominators of 业主月度互动率 and 便民服务覆盖率) and the estate's
response-speed baseline period.

Existing households count as occupied and resident until an import says otherwise: every flat the
estate has loaded so far was treated as lived in.

Revision ID: 0016_household_flags_baseline
Revises: 0015_effective_time_routing
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_household_flags_baseline"
down_revision = "0015_effective_time_routing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("occupied", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("resident", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("estates") as batch:
        batch.add_column(sa.Column("response_baseline_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("response_baseline_to", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("estates") as batch:
        batch.drop_column("response_baseline_to")
        batch.drop_column("response_baseline_from")
    with op.batch_alter_table("households") as batch:
        batch.drop_column("resident")
        batch.drop_column("occupied")
