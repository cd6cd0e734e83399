"""Effective time of order events and steps (server/clock.py): when an act counts for timelines, SLA
and KPIs, beside the receive time and the raw device time kept as evidence. Existing rows count when
they were received (events) or at their capture time clamped to the receipt (steps), as before.
And ``routing_rules``: per estate, which department queue or person handles each category; and
``photo_refs`` rows for the owner's report-form photos (record table ``report_photos``).

Revision ID: 0015_effective_time_routing
Revises: 0014_poster_key
"""

import json

import sqlalchemy as sa
from alembic import op

from server.db.base import UTCDateTime

revision = "0015_effective_time_routing"
down_revision = "0014_poster_key"
branch_labels = None
depends_on = None

CATEGORIES = (
    "water_electric", "lift", "cleaning", "security", "noise", "fees",
    "parking", "landscaping", "renovation", "facilities", "other",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("estate_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.Enum(*CATEGORIES, name="category", native_enum=False, length=20), nullable=False),
        sa.Column("department", sa.String(length=20), nullable=True),
        sa.Column("handler_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], name=op.f("fk_routing_rules_estate_id_estates")),
        sa.ForeignKeyConstraint(["handler_id"], ["staff.id"], name=op.f("fk_routing_rules_handler_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
        sa.UniqueConstraint("estate_id", "category", name=op.f("uq_routing_rules_estate_id_category")),
    )
    # Plain ADD COLUMN, never batch mode: SQLite's batch mode recreates order_steps and drops its
    # photo_refs triggers (migration 0008). Every new row sets the column; these backfill the old.
    op.add_column("order_events", sa.Column("effective_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("order_steps", sa.Column("effective_at", UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE order_events SET effective_at = server_time")
    op.execute(
        "UPDATE order_steps SET effective_at = CASE WHEN skew_flag OR captured_at > received_at"
        " THEN received_at ELSE captured_at END"
    )
    # The owner's report-form photos are referenced by their ``report_photos`` event, so staff who
    # see the order may view them (server/photos/viewing.py); new events insert their own rows.
    bind = op.get_bind()
    for event_id, data in bind.execute(sa.text("SELECT id, data FROM order_events WHERE action = 'report_photos'")):
        photos = (json.loads(data) if isinstance(data, str) else data or {}).get("photos") or []
        for sha in dict.fromkeys(p for p in photos if isinstance(p, str) and len(p) == 64):
            bind.execute(
                sa.text("INSERT INTO photo_refs (sha256, record_table, record_id) VALUES (:sha, 'report_photos', :id)"),
                {"sha": sha, "id": event_id},
            )


def downgrade() -> None:
    op.execute("DELETE FROM photo_refs WHERE record_table = 'report_photos'")
    op.drop_table("routing_rules")
    op.drop_column("order_steps", "effective_at")
    op.drop_column("order_events", "effective_at")
