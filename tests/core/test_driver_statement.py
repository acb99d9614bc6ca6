"""DriverStatement: a hot path's statement on the session's own connection, through psycopg itself.

It must behave as a statement run through SQLAlchemy would for everything around it: the request's
transaction, the engine's cursor listeners, and errors that the unit of work knows how to answer.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from correction.database import DriverStatement, db

pytestmark = pytest.mark.postgresql_only

ECHO = DriverStatement("SELECT CAST(:number AS int) + 1 AS next, CAST(:label AS text) AS label")
NOTHING = DriverStatement("SELECT 1 AS one WHERE CAST(:never AS boolean)")
DIVIDE = DriverStatement("SELECT 1 / CAST(:zero AS int) AS boom")
SELF_END = DriverStatement("SELECT pg_terminate_backend(pg_backend_pid()) WHERE CAST(:go AS boolean)")


def test_one_row_comes_back_as_a_named_tuple_and_none_when_there_is_none(app):
    with app.app_context():
        row = ECHO.one_or_none(db.session, {"number": 41, "label": "50% off: a literal % is not a placeholder"})
        assert (row.next, row.label) == (42, "50% off: a literal % is not a placeholder")
        assert NOTHING.one_or_none(db.session, {"never": False}) is None


def test_it_runs_in_the_sessions_transaction(app):
    write = DriverStatement("INSERT INTO bureaus (code, name) VALUES (:code, :name) "
                            "RETURNING id")
    with app.app_context():
        assert write.one_or_none(db.session, {"code": "DRV-ROLLBACK", "name": "rolled back"}).id > 0
        db.session.rollback()
        assert db.session.execute(sa.text("SELECT count(*) FROM bureaus WHERE code = 'DRV-ROLLBACK'")).scalar() == 0
        write.one_or_none(db.session, {"code": "DRV-COMMIT", "name": "kept"})
        db.session.commit()
        try:
            assert db.session.execute(sa.text("SELECT count(*) FROM bureaus WHERE code = 'DRV-COMMIT'")).scalar() == 1
        finally:
            db.session.execute(sa.text("DELETE FROM bureaus WHERE code = 'DRV-COMMIT'"))
            db.session.commit()


def test_the_engines_cursor_listeners_see_it(app):
    seen = []
    with app.app_context():
        engine = db.engine
        listener = lambda conn, cursor, statement, params, *rest: seen.append((statement, params))  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            ECHO.one_or_none(db.session, {"number": 1, "label": "x"})
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
            db.session.rollback()
    assert seen == [(ECHO.sql, {"number": 1, "label": "x"})]


def test_a_driver_error_is_sqlalchemys_and_does_not_show_the_parameters(app):
    with app.app_context():
        with pytest.raises(sa.exc.DataError) as raised:
            DIVIDE.one_or_none(db.session, {"zero": 0})
        assert "division by zero" in str(raised.value)
        assert "hidden due to hide_parameters" in str(raised.value)
        db.session.rollback()
        assert ECHO.one_or_none(db.session, {"number": 1, "label": "after"}).next == 2


def test_a_lost_connection_is_invalidated_and_the_next_request_gets_a_new_one(app):
    with app.app_context():
        before = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with pytest.raises(sa.exc.OperationalError) as raised:
            SELF_END.one_or_none(db.session, {"go": True})
        assert raised.value.connection_invalidated
        db.session.rollback()
        after = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        assert after != before
        assert ECHO.one_or_none(db.session, {"number": 2, "label": "new"}).next == 3
        db.session.rollback()
