"""server_keys and job_leases: what several server nodes share through the database

server_keys holds the token secret and the VAPID key pair that every node must use alike (the first
node to start writes its own); job_leases lets one node run each round of a background job.

Revision ID: 0018_many_nodes
Revises: 0017_answer_proposals
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_many_nodes"
down_revision = "0017_answer_proposals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_keys",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(80), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    op.drop_table("server_keys")
