"""index for compacting the sync change log

Revision ID: 0005_change_log_compaction
Revises: 0004_answers
"""

from alembic import op

revision = "0005_change_log_compaction"
down_revision = "0004_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sync_changes_record", "sync_changes", ["audience", "table", "record_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_sync_changes_record", table_name="sync_changes")
