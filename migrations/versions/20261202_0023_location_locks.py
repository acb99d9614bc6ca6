"""the evaluation lock and its count move from the wide supervisees row to a narrow table of their own

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 15:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'location_locks',
        sa.Column('supervisee_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['supervisee_id'], ['supervisees.id'],
                                name=op.f('fk_location_locks_supervisee_id_supervisees')),
        sa.PrimaryKeyConstraint('supervisee_id', name=op.f('pk_location_locks')),
    )
    # Only whether the count moved while a statement waited matters, not its value: no rows are copied
    # (the first lock of a person makes their row).
    with op.batch_alter_table('supervisees') as batch:
        batch.drop_column('location_seq')


def downgrade():
    with op.batch_alter_table('supervisees') as batch:
        batch.add_column(sa.Column('location_seq', sa.Integer(), server_default='0', nullable=False))
    op.drop_table('location_locks')
