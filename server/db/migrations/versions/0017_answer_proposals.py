"""The answer library's scenes and proposals: the desk proposes entries (or edits), a supervisor
approves or rejects them; only approved rows are served. The categories become the source
documents' scenes; rows of the retired categories move to the scene that now holds their topic.

Revision ID: 0017_answer_proposals
Revises: 0016_bulletins
"""

import sqlalchemy as sa
from alembic import op

from server.db.base import UTCDateTime

revision = "0017_answer_proposals"
down_revision = "0016_bulletins"
branch_labels = None
depends_on = None

SCENES = (
    "greeting", "fees", "parking", "renovation", "public_area", "repair", "emergency",
    "complaint", "convenience", "security", "callback", "other",
)  # fmt: skip
OLD = (
    "fees", "parking", "renovation", "outage", "pets", "noise", "parcels", "access_cards",
    "greeting", "repair", "security", "other",
)  # fmt: skip
MOVED = {
    "outage": "emergency",
    "pets": "public_area",
    "noise": "complaint",
    "parcels": "convenience",
    "access_cards": "convenience",
}
STATUSES = ("approved", "proposed", "applied", "rejected")


def _recategorise(mapping: dict[str, str]) -> None:
    answers = sa.table("answers", sa.column("category", sa.String))
    for old, new in mapping.items():
        op.execute(answers.update().where(answers.c.category == old).values(category=new))


def upgrade() -> None:
    _recategorise(MOVED)
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.alter_column(
            "category",
            existing_type=sa.Enum(*OLD, name="answercategory", native_enum=False, length=20),
            type_=sa.Enum(*SCENES, name="answercategory", native_enum=False, length=20),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(*STATUSES, name="answerstatus", native_enum=False, length=20),
                nullable=False,
                server_default="approved",
            )
        )
        batch_op.add_column(sa.Column("proposed_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("replaces_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=False, server_default=""))
        batch_op.create_foreign_key(batch_op.f("fk_answers_proposed_by_staff"), "staff", ["proposed_by"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_answers_replaces_id_answers"), "answers", ["replaces_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_answers_reviewed_by_staff"), "staff", ["reviewed_by"], ["id"])
        batch_op.create_index(batch_op.f("ix_answers_proposed_by"), ["proposed_by"], unique=False)
        batch_op.create_index("ix_answers_company_status", ["company_id", "status"], unique=False)
    # The defaults only filled the existing rows: the model sets both on every insert.
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("review_note", server_default=None)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM answers WHERE status <> 'approved'"))
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_index("ix_answers_company_status")
        batch_op.drop_index(batch_op.f("ix_answers_proposed_by"))
        batch_op.drop_constraint(batch_op.f("fk_answers_reviewed_by_staff"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_answers_replaces_id_answers"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_answers_proposed_by_staff"), type_="foreignkey")
        for column in ("review_note", "reviewed_at", "reviewed_by", "replaces_id", "proposed_by", "status"):
            batch_op.drop_column(column)
    _recategorise(
        {
            "emergency": "outage",
            "public_area": "other",
            "complaint": "other",
            "convenience": "other",
            "callback": "other",
        }
    )
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.alter_column(
            "category",
            existing_type=sa.Enum(*SCENES, name="answercategory", native_enum=False, length=20),
            type_=sa.Enum(*OLD, name="answercategory", native_enum=False, length=20),
            existing_nullable=False,
        )
