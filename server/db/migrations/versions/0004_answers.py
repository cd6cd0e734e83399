"""answer library (话术库)

Revision ID: 0004_answers
Revises: 0003_push
Create Date: 2026-11-24 09:00:00
"""

from alembic import op
import sqlalchemy as sa
import server.db.base

revision = '0004_answers'
down_revision = "0003_push"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('answers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('estate_id', sa.Uuid(), nullable=True),
    sa.Column('category', sa.Enum('fees', 'parking', 'renovation', 'outage', 'pets', 'noise', 'parcels', 'access_cards', 'greeting', 'repair', 'security', 'other', name='answercategory', native_enum=False, length=20), nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('keywords', sa.String(length=300), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.Column('updated_at', server.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('starter_key', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_answers_company_id_companies')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_answers_estate_id_estates')),
    sa.ForeignKeyConstraint(['updated_by'], ['staff.id'], name=op.f('fk_answers_updated_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
    sa.UniqueConstraint('company_id', 'starter_key', name=op.f('uq_answers_company_id_starter_key'))
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_company_category', ['company_id', 'category'], unique=False)
        batch_op.create_index(batch_op.f('ix_answers_estate_id'), ['estate_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answers_estate_id'))
        batch_op.drop_index('ix_answers_company_category')

    op.drop_table('answers')
