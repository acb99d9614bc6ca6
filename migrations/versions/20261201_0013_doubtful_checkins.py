"""station check-ins keep the code's time step; doubtful check-ins are an alert type

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD_TYPES = ('missed_checkin', 'missed_spot_check', 'signal_lost', 'zone_exit', 'exclusion_entry', 'mock_location',
             'impossible_movement', 'leave_overdue', 'device_changed')
NEW_TYPES = OLD_TYPES + ('doubtful_checkin',)


def _allow(batch_op, types):
    """Replace the alert type's check constraint with one allowing ``types``."""
    batch_op.drop_constraint(op.f('ck_alerts_alert_type'), type_='check')
    batch_op.create_check_constraint('alert_type', sa.column('type').in_(types))


def upgrade():
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qr_step', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_checkins_station_id_qr_step', ['station_id', 'qr_step'], unique=False)
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        _allow(batch_op, NEW_TYPES)


def downgrade():
    op.execute("DELETE FROM alerts WHERE type = 'doubtful_checkin'")
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        _allow(batch_op, OLD_TYPES)
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_station_id_qr_step')
        batch_op.drop_column('qr_step')
