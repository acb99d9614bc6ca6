"""the last refused fix of each phone, for officers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 03:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refused_fixes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_refusal', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('last_refusal_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('last_refusal_at')
        batch_op.drop_column('last_refusal')
        batch_op.drop_column('refused_fixes')
