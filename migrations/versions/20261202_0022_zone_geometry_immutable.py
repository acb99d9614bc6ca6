"""a zone's geometry never changes (a changed area is a new zone): workers keep compiled shapes by zone id

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 08:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

MESSAGE = "a zone''s geometry cannot change: add a new zone instead"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION zone_geometry_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.geometry IS DISTINCT FROM OLD.geometry THEN
                    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
                END IF;
                RETURN NEW;
            END $$""")
        op.execute("CREATE TRIGGER zone_geometry_immutable BEFORE UPDATE OF geometry ON zones "
                   "FOR EACH ROW EXECUTE FUNCTION zone_geometry_immutable()")
    else:
        op.execute(f"""
            CREATE TRIGGER zone_geometry_immutable BEFORE UPDATE OF geometry ON zones
            WHEN NEW.geometry IS NOT OLD.geometry
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade():
    op.execute("DROP TRIGGER zone_geometry_immutable" +
               (" ON zones" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION zone_geometry_immutable()")
