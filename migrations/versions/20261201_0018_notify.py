"""delivery of the outbox: a row per notification and channel; the phone's push id; notice deadlines

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_notifications_undispatched', ['id'], unique=False,
                              sqlite_where=sa.text('dispatched_at IS NULL'),
                              postgresql_where=sa.text('dispatched_at IS NULL'))
        batch_op.create_index('ix_notifications_expires_at', ['expires_at'], unique=False)
    # What was queued before delivery existed was for polling only: it is not sent now.
    op.execute("UPDATE notifications SET dispatched_at = created_at")

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('push_token', sa.String(length=200), nullable=True))

    op.create_table('notification_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_message_id', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'],
                            name=op.f('fk_notification_deliveries_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_deliveries')),
    sa.UniqueConstraint('notification_id', 'channel', name=op.f('uq_notification_deliveries_notification_id_channel'))
    )
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_notification_deliveries_state_next_attempt_at', ['state', 'next_attempt_at'],
                              unique=False)


def downgrade():
    op.drop_table('notification_deliveries')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('push_token')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_expires_at')
        batch_op.drop_index('ix_notifications_undispatched')
        batch_op.drop_column('dispatched_at')
        batch_op.drop_column('expires_at')
