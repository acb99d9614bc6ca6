"""Migration 0011: the last four in ASCII, and a report of rows that may be one person twice."""
from __future__ import annotations

import hashlib
import hmac
import importlib.util
import logging
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
import sqlalchemy as sa

from correction.database import db
from correction.people.models import Supervisee
from tests.assertions import rows

MIGRATION = Path(__file__).parents[2] / "migrations/versions/20261201_0011_national_id_forms.py"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
NUMBER = "11010519491231002X"


def run_migration(app) -> None:
    spec = importlib.util.spec_from_file_location("migration_0011", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with app.app_context(), db.engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            module.upgrade()


def enrolled_before_0011(app, make, office, national_id: str, name: str):
    """A supervisee as enrolment stored them before numbers were normalised: hashed as typed."""
    person = make.supervisee(office, national_id=national_id, name=name).supervisee
    with app.app_context():
        key = hashlib.sha256(b"national-id:" + app.config["SETTINGS"].SECRET_KEY.encode()).digest()
        as_typed = hmac.new(key, national_id.encode(), hashlib.sha256).hexdigest()
        db.session.execute(sa.update(Supervisee).where(Supervisee.id == person.id).values(national_id_hash=as_typed))
        db.session.commit()
    return person


def test_the_last_four_become_ascii_and_possible_twins_are_reported_not_touched(app, make, caplog):
    office, other = make.office(), make.office(name="江南街道司法所")
    wide = enrolled_before_0011(app, make, office, NUMBER.translate(FULL_WIDTH), "张伟")
    twin = make.supervisee(office, national_id=NUMBER, name="张 伟").supervisee  # as enrolled twice
    make.supervisee(other, national_id="110105194912310029", name="张伟")  # same name and last four, other office
    make.supervisee(office, name="李四")
    assert rows(app, Supervisee, Supervisee.id == wide.id)[0].national_id_last4 == "００２Ｘ"
    before = {p.id: p.national_id_hash for p in rows(app, Supervisee)}

    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        run_migration(app)

    after = {p.id: p for p in rows(app, Supervisee)}
    assert after[wide.id].national_id_last4 == "002X"
    assert {p.id: p.national_id_hash for p in after.values()} == before  # hashes cannot be redone here
    assert len(after) == 4  # nobody merged or deleted
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"[{wide.id}]" in m and "full-width" in m for m in messages), messages
    twins = [m for m in messages if "enrolled twice" in m]
    assert twins == [f"office {office.id}: supervisees {[wide.id, twin.id]} share a name and the last four 002X "
                     "of their ID number; they may be one person enrolled twice (left untouched)"], messages


def test_a_clean_table_is_left_alone_and_nothing_is_reported(app, make, caplog):
    office = make.office()
    make.supervisee(office, name="李四")
    make.supervisee(office, name="王五")
    before = [(p.id, p.national_id_last4) for p in rows(app, Supervisee)]
    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        run_migration(app)
    assert [(p.id, p.national_id_last4) for p in rows(app, Supervisee)] == before
    assert caplog.records == []
