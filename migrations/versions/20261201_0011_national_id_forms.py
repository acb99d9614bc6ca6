"""national ID last four in ASCII; report supervisees who may be one person enrolled twice

Numbers typed in full-width digits (３３０７…Ｘ) were hashed as typed, so the same person could be
enrolled twice. Only the keyed hash and the last four are stored, so what can be done is: rewrite
the last four in ASCII, and report (never merge or delete) what an officer must look at:
rows whose last four were full-width (their hash is of the full-width form, so a lookup by the
ASCII number misses them until the number is entered again), and rows in one office with the
same name and the same last four (possibly one person twice).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:00:00

"""
import logging
import unicodedata
from collections import defaultdict

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
supervisees = sa.table("supervisees", sa.column("id", sa.Integer), sa.column("office_id", sa.Integer),
                       sa.column("name", sa.String), sa.column("national_id_last4", sa.String))


def _canonical(text):
    return unicodedata.normalize("NFKC", text or "").strip().upper()


def upgrade():
    conn = op.get_bind()
    found = conn.execute(sa.select(supervisees.c.id, supervisees.c.office_id, supervisees.c.name,
                                   supervisees.c.national_id_last4).order_by(supervisees.c.id)).all()
    rekey, groups = [], defaultdict(list)
    for row in found:
        last4 = _canonical(row.national_id_last4)
        if last4 != row.national_id_last4:
            rekey.append(row.id)
            conn.execute(sa.update(supervisees).where(supervisees.c.id == row.id).values(national_id_last4=last4))
        name = "".join(_canonical(row.name).split())
        groups[(row.office_id, name, last4)].append(row.id)
    if rekey:
        log.warning("national ID last four rewritten in ASCII for supervisees %s: their number was typed in "
                    "full-width, so a lookup by the ASCII number misses them until an officer enters it again",
                    rekey)
    for (office_id, _name, last4), ids in groups.items():
        if len(ids) > 1:
            log.warning("office %s: supervisees %s share a name and the last four %s of their ID number; "
                        "they may be one person enrolled twice (left untouched)", office_id, ids, last4)


def downgrade():
    pass  # the ASCII last four are what the full-width ones meant; nothing to undo
