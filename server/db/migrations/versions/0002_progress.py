"""owner progress links and report-form attempts

Revision ID: 0002_progress
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import server.db.base

revision = '0002_progress'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('progress_links',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', server.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', server.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_progress_links_created_by_staff')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_progress_links_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_progress_links_token_hash'))
    )
    with op.batch_alter_table('progress_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_links_order_id'), ['order_id'], unique=False)

    op.create_table('report_attempts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_attempts'))
    )
    with op.batch_alter_table('report_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_report_attempts_at', ['at'], unique=False)
        batch_op.create_index('ix_report_attempts_ip_at', ['ip', 'at'], unique=False)
        batch_op.create_index('ix_report_attempts_phone_at', ['phone', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_attempts_phone_at')
        batch_op.drop_index('ix_report_attempts_ip_at')
        batch_op.drop_index('ix_report_attempts_at')

    op.drop_table('report_attempts')
    with op.batch_alter_table('progress_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_links_order_id'))

    op.drop_table('progress_links')
