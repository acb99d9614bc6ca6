"""officers' group robots (DingTalk/WeCom) per office and bureau; officers' messages in the outbox;
delivery_failed is an alert type

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

OLD_TYPES = ('missed_checkin', 'missed_spot_check', 'signal_lost', 'zone_exit', 'exclusion_entry', 'mock_location',
             'impossible_movement', 'leave_overdue', 'device_changed', 'doubtful_checkin')
NEW_TYPES = OLD_TYPES + ('delivery_failed',)


def _allow(batch_op, types):
    """Replace the alert type's check constraint with one allowing ``types``."""
    batch_op.drop_constraint(op.f('ck_alerts_alert_type'), type_='check')
    batch_op.create_check_constraint('alert_type', sa.column('type').in_(types))


def upgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        _allow(batch_op, NEW_TYPES)
    op.create_table('robots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bureau_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bureau_id'], ['bureaus.id'], name=op.f('fk_robots_bureau_id_bureaus')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_robots_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robots')),
    sa.UniqueConstraint('office_id', name=op.f('uq_robots_office_id'))
    )
    op.create_index('uq_robots_bureau_robot', 'robots', ['bureau_id'], unique=True,
                    sqlite_where=sa.text('office_id IS NULL'), postgresql_where=sa.text('office_id IS NULL'))
    op.create_table('officer_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bureau_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bureau_id'], ['bureaus.id'], name=op.f('fk_officer_messages_bureau_id_bureaus')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_officer_messages_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_officer_messages_dedupe_key'))
    )
    op.create_index('ix_officer_messages_undispatched', 'officer_messages', ['id'], unique=False,
                    sqlite_where=sa.text('dispatched_at IS NULL'), postgresql_where=sa.text('dispatched_at IS NULL'))
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('officer_message_id', sa.Integer(), nullable=True))
        batch_op.alter_column('notification_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_notification_deliveries_officer_message_id_officer_messages'),
                                    'officer_messages', ['officer_message_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_notification_deliveries_officer_message_id_channel'),
                                          ['officer_message_id', 'channel'])
        batch_op.create_check_constraint('one_message',
                                         '(notification_id IS NULL) <> (officer_message_id IS NULL)')


def downgrade():
    op.execute("DELETE FROM notification_deliveries WHERE officer_message_id IS NOT NULL")
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('one_message', type_='check')
        batch_op.drop_constraint(batch_op.f('uq_notification_deliveries_officer_message_id_channel'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_notification_deliveries_officer_message_id_officer_messages'),
                                 type_='foreignkey')
        batch_op.alter_column('notification_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('officer_message_id')
    op.drop_index('ix_officer_messages_undispatched', table_name='officer_messages')
    op.drop_table('officer_messages')
    op.drop_index('uq_robots_bureau_robot', table_name='robots')
    op.drop_table('robots')
    op.execute("DELETE FROM alerts WHERE type = 'delivery_failed'")
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        _allow(batch_op, OLD_TYPES)
