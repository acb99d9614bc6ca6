"""periods of stepped-up supervision (临时加强监管); spot checks a period's quota issued

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table('supervision_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bureau_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('levels', JSON, nullable=False),
    sa.Column('windows', JSON, nullable=False),
    sa.Column('spot_checks_per_week', sa.Integer(), nullable=False),
    sa.Column('declared_by', sa.Integer(), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['bureau_id'], ['bureaus.id'], name=op.f('fk_supervision_periods_bureau_id_bureaus')),
    sa.ForeignKeyConstraint(['cancelled_by'], ['officers.id'], name=op.f('fk_supervision_periods_cancelled_by_officers')),
    sa.ForeignKeyConstraint(['declared_by'], ['officers.id'], name=op.f('fk_supervision_periods_declared_by_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_periods'))
    )
    with op.batch_alter_table('supervision_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_periods_bureau_id'), ['bureau_id'], unique=False)

    op.create_table('supervision_period_offices',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_supervision_period_offices_office_id_offices')),
    sa.ForeignKeyConstraint(['period_id'], ['supervision_periods.id'], name=op.f('fk_supervision_period_offices_period_id_supervision_periods')),
    sa.PrimaryKeyConstraint('period_id', 'office_id', name=op.f('pk_supervision_period_offices'))
    )
    with op.batch_alter_table('supervision_period_offices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_period_offices_office_id'), ['office_id'], unique=False)

    with op.batch_alter_table('spot_checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period_slot', sa.String(length=80), nullable=True))
        batch_op.create_index('uq_spot_checks_period_slot', ['period_slot'], unique=True)


def downgrade():
    with op.batch_alter_table('spot_checks', schema=None) as batch_op:
        batch_op.drop_index('uq_spot_checks_period_slot')
        batch_op.drop_column('period_slot')
    with op.batch_alter_table('supervision_period_offices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_period_offices_office_id'))
    op.drop_table('supervision_period_offices')
    with op.batch_alter_table('supervision_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_periods_bureau_id'))
    op.drop_table('supervision_periods')
