"""point rules become versions: per bureau, from a local date on, never changed in place

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00

"""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = "0014"
branch_labels = None
depends_on = None

# The rows of point_rules become the defaults every bureau starts with, in force long before any data.
DEFAULTS_FROM = date(2000, 1, 1)


def upgrade():
    op.create_table('point_rule_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('bureau_id', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('weekly_cap', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(daily_cap IS NULL OR daily_cap > 0) AND (weekly_cap IS NULL OR weekly_cap > 0)',
                       name=op.f('ck_point_rule_versions_caps_positive')),
    sa.CheckConstraint('points > 0 OR (daily_cap IS NULL AND weekly_cap IS NULL)',
                       name=op.f('ck_point_rule_versions_caps_on_awards_only')),
    sa.ForeignKeyConstraint(['bureau_id'], ['bureaus.id'], name=op.f('fk_point_rule_versions_bureau_id_bureaus')),
    sa.ForeignKeyConstraint(['changed_by'], ['officers.id'], name=op.f('fk_point_rule_versions_changed_by_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_rule_versions')),
    sa.UniqueConstraint('event', 'bureau_id', 'effective_from', name='uq_point_rule_versions_bureau_day')
    )
    op.create_index('uq_point_rule_versions_default_day', 'point_rule_versions', ['event', 'effective_from'],
                    unique=True, sqlite_where=sa.text('bureau_id IS NULL'),
                    postgresql_where=sa.text('bureau_id IS NULL'))
    # Plain ADD COLUMN, no foreign key: a SQLite table rebuild would drop the ledger's append-only
    # triggers, and versions are never deleted anyway.
    op.add_column('point_entries', sa.Column('rule_version_id', sa.Integer(), nullable=True))

    bind = op.get_bind()
    rules = bind.execute(sa.text("SELECT event, points, daily_cap, weekly_cap, active, description "
                                 "FROM point_rules ORDER BY event")).all()
    effective_at = datetime.combine(DEFAULTS_FROM, datetime.min.time(), ZoneInfo(_local_timezone()))
    now = datetime.now(timezone.utc)
    op.bulk_insert(_versions_table(bind), [
        dict(event=r.event, bureau_id=None, points=r.points, daily_cap=r.daily_cap, weekly_cap=r.weekly_cap,
             active=bool(r.active), description=r.description, effective_from=DEFAULTS_FROM,
             effective_at=_stored(bind, effective_at), reason='规则版本化前的默认规则 the rules before versions',
             changed_by=None, created_at=_stored(bind, now))
        for r in rules])
    op.drop_table('point_rules')
    _make_append_only()


def downgrade():
    op.create_table('point_rules',
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('weekly_cap', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('event', name=op.f('pk_point_rules'))
    )
    # The latest default of each event is the one rule that remains; bureaus' versions are lost.
    op.execute("""
        INSERT INTO point_rules (event, points, daily_cap, weekly_cap, active, description)
        SELECT v.event, v.points, v.daily_cap, v.weekly_cap, v.active, v.description
        FROM point_rule_versions v
        WHERE v.bureau_id IS NULL AND v.effective_from = (
            SELECT max(w.effective_from) FROM point_rule_versions w WHERE w.event = v.event AND w.bureau_id IS NULL)
    """)
    op.drop_column('point_entries', 'rule_version_id')
    op.drop_index('uq_point_rule_versions_default_day', table_name='point_rule_versions')
    op.drop_table('point_rule_versions')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION point_rule_versions_append_only()")


def _local_timezone() -> str:
    try:
        return current_app.config["SETTINGS"].LOCAL_TIMEZONE
    except (RuntimeError, KeyError):  # run outside the app: the design's default
        return "Asia/Shanghai"


def _stored(bind, instant: datetime):
    """An aware instant as the columns store it: timestamptz, or naive UTC on SQLite."""
    instant = instant.astimezone(timezone.utc)
    return instant.replace(tzinfo=None) if bind.dialect.name == "sqlite" else instant


def _versions_table(bind):
    return sa.table('point_rule_versions', *(sa.column(name, type_) for name, type_ in (
        ('event', sa.String), ('bureau_id', sa.Integer), ('points', sa.Integer), ('daily_cap', sa.Integer),
        ('weekly_cap', sa.Integer), ('active', sa.Boolean), ('description', sa.String),
        ('effective_from', sa.Date), ('effective_at', sa.DateTime(timezone=True)), ('reason', sa.String),
        ('changed_by', sa.Integer), ('created_at', sa.DateTime(timezone=True)))))


def _make_append_only():
    """A change appends a version: the database refuses UPDATE and DELETE on point_rule_versions."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION point_rule_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'point_rule_versions is append-only'; END $$
        """)
        op.execute("""
            CREATE TRIGGER point_rule_versions_append_only BEFORE UPDATE OR DELETE ON point_rule_versions
            FOR EACH ROW EXECUTE FUNCTION point_rule_versions_append_only()
        """)
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER point_rule_versions_no_{event.lower()} BEFORE {event} ON point_rule_versions
                BEGIN SELECT RAISE(ABORT, 'point_rule_versions is append-only'); END
            """)
