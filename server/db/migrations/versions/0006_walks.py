"""walk-abouts (巡查): routes, checkpoints, walks, checkpoint visits, findings

Revision ID: 0006_walks
Revises: 0005_change_log_compaction
Create Date: 2026-12-01 21:00:00
"""

from alembic import op
import sqlalchemy as sa
import server.db.base

revision = '0006_walks'
down_revision = "0005_change_log_compaction"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('walk_routes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('created_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_walk_routes_estate_id_estates')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_walk_routes_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_routes'))
    )
    with op.batch_alter_table('walk_routes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_routes_grid_id'), ['grid_id'], unique=False)

    op.create_table('walks',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('steward_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', server.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_received_at', server.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('clock_offset_ms', sa.BigInteger(), nullable=True),
    sa.Column('skew_flag', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_walks_estate_id_estates')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_walks_grid_id_grids')),
    sa.ForeignKeyConstraint(['steward_id'], ['staff.id'], name=op.f('fk_walks_steward_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walks'))
    )
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walks_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index('ix_walks_steward_started', ['steward_id', 'started_at'], unique=False)

    op.create_table('walk_checkpoints',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('route_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('checklist_type', sa.String(length=12), nullable=False),
    sa.Column('frequency', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_walk_checkpoints_estate_id_estates')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_walk_checkpoints_grid_id_grids')),
    sa.ForeignKeyConstraint(['route_id'], ['walk_routes.id'], name=op.f('fk_walk_checkpoints_route_id_walk_routes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_checkpoints')),
    sa.UniqueConstraint('code', name=op.f('uq_walk_checkpoints_code'))
    )
    with op.batch_alter_table('walk_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_checkpoints_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_walk_checkpoints_route_id'), ['route_id'], unique=False)

    op.create_table('walk_visits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('walk_id', sa.Uuid(), nullable=False),
    sa.Column('checkpoint_id', sa.Uuid(), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('visited_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('counted_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('clock_offset_ms', sa.BigInteger(), nullable=True),
    sa.Column('skew_flag', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['staff.id'], name=op.f('fk_walk_visits_author_id_staff')),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['walk_checkpoints.id'], name=op.f('fk_walk_visits_checkpoint_id_walk_checkpoints')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_walk_visits_estate_id_estates')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_walk_visits_grid_id_grids')),
    sa.ForeignKeyConstraint(['walk_id'], ['walks.id'], name=op.f('fk_walk_visits_walk_id_walks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_visits'))
    )
    with op.batch_alter_table('walk_visits', schema=None) as batch_op:
        batch_op.create_index('ix_walk_visits_checkpoint_counted', ['checkpoint_id', 'counted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_walk_visits_walk_id'), ['walk_id'], unique=False)

    op.create_table('walk_findings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('walk_id', sa.Uuid(), nullable=True),
    sa.Column('estate_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('location', sa.JSON(), nullable=True),
    sa.Column('captured_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('clock_offset_ms', sa.BigInteger(), nullable=True),
    sa.Column('skew_flag', sa.Boolean(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['staff.id'], name=op.f('fk_walk_findings_author_id_staff')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_walk_findings_estate_id_estates')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_walk_findings_grid_id_grids')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_walk_findings_order_id_orders')),
    sa.ForeignKeyConstraint(['walk_id'], ['walks.id'], name=op.f('fk_walk_findings_walk_id_walks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_findings')),
    sa.UniqueConstraint('order_id', name=op.f('uq_walk_findings_order_id'))
    )
    with op.batch_alter_table('walk_findings', schema=None) as batch_op:
        batch_op.create_index('ix_walk_findings_author_received', ['author_id', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_walk_findings_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_walk_findings_walk_id'), ['walk_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('walk_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_findings_walk_id'))
        batch_op.drop_index(batch_op.f('ix_walk_findings_grid_id'))
        batch_op.drop_index('ix_walk_findings_author_received')

    op.drop_table('walk_findings')
    with op.batch_alter_table('walk_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_visits_walk_id'))
        batch_op.drop_index('ix_walk_visits_checkpoint_counted')

    op.drop_table('walk_visits')
    with op.batch_alter_table('walk_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_checkpoints_route_id'))
        batch_op.drop_index(batch_op.f('ix_walk_checkpoints_grid_id'))

    op.drop_table('walk_checkpoints')
    with op.batch_alter_table('walks', schema=None) as batch_op:
        batch_op.drop_index('ix_walks_steward_started')
        batch_op.drop_index(batch_op.f('ix_walks_grid_id'))

    op.drop_table('walks')
    with op.batch_alter_table('walk_routes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_routes_grid_id'))

    op.drop_table('walk_routes')
