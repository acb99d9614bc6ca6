"""station screens' display credentials (only the hash of a secret is stored)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('station_displays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_station_displays_station_id_stations')),
    sa.ForeignKeyConstraint(['issued_by'], ['officers.id'], name=op.f('fk_station_displays_issued_by_officers')),
    sa.ForeignKeyConstraint(['revoked_by'], ['officers.id'], name=op.f('fk_station_displays_revoked_by_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_station_displays')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_station_displays_secret_hash'))
    )
    with op.batch_alter_table('station_displays', schema=None) as batch_op:
        batch_op.create_index('ix_station_displays_station_id', ['station_id'], unique=False)


def downgrade():
    op.drop_table('station_displays')
