"""administration: closed offices, pending TOTP enrolment, station secret rotation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_rotated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_enrolled_at', sa.DateTime(timezone=True), nullable=True))
    # Every officer so far was handed a secret by the seed or by hand: they count as enrolled.
    op.execute("UPDATE officers SET totp_enrolled_at = created_at")


def downgrade():
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_column('totp_enrolled_at')
    with op.batch_alter_table('stations', schema=None) as batch_op:
        batch_op.drop_column('secret_rotated_at')
    with op.batch_alter_table('offices', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
