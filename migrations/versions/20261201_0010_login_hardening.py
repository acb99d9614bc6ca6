"""failed logins counted per (account, client); passwords that must be changed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_kind', sa.String(length=20), nullable=False),
    sa.Column('account_key', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    sa.UniqueConstraint('account_kind', 'account_key', 'client', name=op.f('uq_login_failures_pair'))
    )
    # The account-wide counters let a stranger lock anyone out: they are no longer used.
    # Existing locks are lifted with them (they were the stranger's as likely as the owner's).
    for table in ('officers', 'supervisees'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('password_change_required', sa.Boolean(),
                                          server_default=sa.false(), nullable=False))
        op.execute(f"UPDATE {table} SET failed_logins = 0, locked_until = NULL")


def downgrade():
    for table in ('supervisees', 'officers'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('password_change_required')
    op.drop_table('login_failures')
