"""photo_refs: which steps, findings and checkpoint visits reference each photo, kept by triggers

A photo's arrival sends those records again; finding them used to be a LIKE scan over every step's
JSON. Triggers (not application code) keep the table, so every insert path is covered. Note for
later migrations: SQLite's batch mode recreates a table and drops its triggers; recreate them.

Revision ID: 0008_photo_refs
Revises: 0007_kpi_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_photo_refs"
down_revision = "0007_kpi_index"
branch_labels = None
depends_on = None

# (record table name, SQL table, JSON column, photos nested in answers[].photos?). Only 64-character
# strings count (handlers accept nothing else), so an odd value can never make an insert fail.
SOURCES = [
    ("steps", "order_steps", "photos", False),
    ("findings", "walk_findings", "photos", False),
    ("checkpoint_visits", "walk_visits", "answers", True),
]


def _sqlite_select(name: str, column: str, nested: bool, row: str, scan: str = "") -> str:
    """The photo references of ``row`` (``NEW`` in a trigger; the table itself, with ``scan`` =
    ``"<table>, "``, for the backfill)."""
    head = f"SELECT DISTINCT p.value, '{name}', {row}.id FROM {scan}"
    if nested:
        return (
            f"{head}json_each({row}.{column}) a, json_each(a.value, '$.photos') p"
            " WHERE a.type = 'object' AND p.type = 'text' AND length(p.value) = 64"
        )
    return f"{head}json_each({row}.{column}) p WHERE p.type = 'text' AND length(p.value) = 64"


def _pg_select(name: str, column: str, nested: bool, row: str, scan: str = "") -> str:
    def array(expr: str) -> str:
        return f"CASE WHEN json_typeof({expr}) = 'array' THEN {expr} ELSE '[]'::json END"

    head = f"SELECT DISTINCT p, '{name}', {row}.id FROM {scan}"
    photos = array("a->'photos'")
    if nested:
        return (
            f"{head}json_array_elements({array(f'{row}.{column}')}) a,"
            f" json_array_elements_text({photos}) p WHERE length(p) = 64"
        )
    return f"{head}json_array_elements_text({array(f'{row}.{column}')}) p WHERE length(p) = 64"


def upgrade() -> None:
    op.create_table(
        "photo_refs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("record_table", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "record_table", "record_id", name=op.f("pk_photo_refs")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, table, column, nested in SOURCES:
        trigger = f"photo_refs_{table}"
        if sqlite:
            select = _sqlite_select(name, column, nested, "NEW")
            for event in ("INSERT", f"UPDATE OF {column}"):
                suffix = "ins" if event == "INSERT" else "upd"
                op.execute(
                    f"CREATE TRIGGER {trigger}_{suffix} AFTER {event} ON {table} BEGIN"
                    f" INSERT OR IGNORE INTO photo_refs (sha256, record_table, record_id) {select}; END"
                )
            op.execute(
                "INSERT OR IGNORE INTO photo_refs (sha256, record_table, record_id) "
                + _sqlite_select(name, column, nested, table, f"{table}, ")
            )
        else:
            op.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                f" INSERT INTO photo_refs (sha256, record_table, record_id) {_pg_select(name, column, nested, 'NEW')}"
                " ON CONFLICT DO NOTHING; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OF {column} ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION {trigger}()"
            )
            op.execute(
                "INSERT INTO photo_refs (sha256, record_table, record_id) "
                + _pg_select(name, column, nested, table, f"{table}, ")
                + " ON CONFLICT DO NOTHING"
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for _name, table, _column, _nested in SOURCES:
        trigger = f"photo_refs_{table}"
        if sqlite:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}_ins")
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}_upd")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
    op.drop_table("photo_refs")
