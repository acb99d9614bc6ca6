"""a leave's destination area can be dropped past location retention; the leave stays

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

GEOMETRY = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.alter_column('destination_geometry', existing_type=GEOMETRY, nullable=True)


def downgrade():
    # a purged destination has no area any more: an empty one keeps the column NOT NULL
    op.execute("UPDATE leave_requests SET destination_geometry = '{}' WHERE destination_geometry IS NULL")
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.alter_column('destination_geometry', existing_type=GEOMETRY, nullable=False)
