"""a counter of evaluations per supervisee, so a single-fix ingest knows what it read is current

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supervisees') as batch:
        batch.add_column(sa.Column('location_seq', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('supervisees') as batch:
        batch.drop_column('location_seq')
