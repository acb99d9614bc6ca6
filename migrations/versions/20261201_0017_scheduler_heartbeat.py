"""the scheduler leader's heartbeat, read by the readiness probe

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_heartbeats',
                    sa.Column('name', sa.String(length=40), nullable=False),
                    sa.Column('host', sa.String(length=100), nullable=False),
                    sa.Column('pid', sa.Integer(), nullable=False),
                    sa.Column('leading_since', sa.DateTime(timezone=True), nullable=False),
                    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_heartbeats')))


def downgrade():
    op.drop_table('scheduler_heartbeats')
