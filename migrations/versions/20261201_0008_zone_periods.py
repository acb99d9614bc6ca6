"""zones carry the period they apply (a leave's destination and route), so locations need no leave table

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applies_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('applies_until', sa.DateTime(timezone=True), nullable=True))
    # A leave's zones applied from its start until the return (销假) or its end: say so on the zone.
    op.execute("""
        UPDATE zones SET
          applies_from = (SELECT l.start_at FROM leave_requests l WHERE l.id = zones.leave_request_id),
          applies_until = (SELECT COALESCE(l.returned_at, l.end_at) FROM leave_requests l
                           WHERE l.id = zones.leave_request_id)
        WHERE leave_request_id IS NOT NULL
    """)


def downgrade():
    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.drop_column('applies_until')
        batch_op.drop_column('applies_from')
