"""ingest keys have a life: when issued and last used (they expire, and end on logout or reset)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:00:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ingest_key_issued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ingest_key_last_used_at', sa.DateTime(timezone=True), nullable=True))
    # Keys in use keep working: their lifetime counts from this upgrade (stored as the models do:
    # naive UTC on SQLite, timestamptz on PostgreSQL).
    now = datetime.now(timezone.utc)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    devices = sa.table('devices', sa.column('ingest_key_hash', sa.String),
                       sa.column('ingest_key_issued_at', sa.DateTime(timezone=True)))
    op.execute(devices.update().where(devices.c.ingest_key_hash.isnot(None)).values(ingest_key_issued_at=now))


def downgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('ingest_key_last_used_at')
        batch_op.drop_column('ingest_key_issued_at')
