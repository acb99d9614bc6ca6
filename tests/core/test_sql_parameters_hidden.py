"""SQL parameters (ids, coordinates, phone numbers) never reach error messages outside development."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from correction.app import create_app
from correction.database import db
from tests.conftest import make_settings
from tests.assertions import error_of

PHONE = "13912345678"
LONG_KEY = "k" * 40


def _failing_statement_message(app) -> str:
    with app.app_context():
        try:
            db.session.execute(sa.text("SELECT no_such_column FROM supervisees WHERE phone = :phone"),
                               {"phone": PHONE})
        except sa.exc.DBAPIError as error:
            return str(error)
        finally:
            db.session.rollback()
            db.engine.dispose()
    raise AssertionError("the statement should have failed")


@pytest.mark.parametrize("env", ["production", "staging", "test"])
def test_sql_parameters_are_hidden_outside_development(database_url, env):
    app = create_app(make_settings(database_url, ENV=env, SECRET_KEY=LONG_KEY))
    message = _failing_statement_message(app)
    assert "no_such_column" in message
    assert PHONE not in message
    assert "hidden due to hide_parameters" in message


def test_sql_parameters_are_shown_in_development(database_url):
    app = create_app(make_settings(database_url, ENV="development", SECRET_KEY=LONG_KEY))
    assert PHONE in _failing_statement_message(app)


@pytest.fixture
def settings_overrides():
    return {"ENV": "production", "SECRET_KEY": LONG_KEY}


def test_a_failed_login_logs_its_sql_error_without_the_phone_number(app, client, caplog):
    """A database failure during a login is a 5xx whose logged traceback names no phone number."""
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE supervisees RENAME COLUMN phone TO phone_gone"))
    try:
        with caplog.at_level(logging.ERROR):
            response = client.post("/api/v1/auth/supervisee/login",
                                   json={"phone": PHONE, "password": "Wrong-password-1", "device_id": "phone-1"})
    finally:
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE supervisees RENAME COLUMN phone_gone TO phone"))
    assert response.status_code in (500, 503)  # 503 when the driver calls it an operational error
    error_of(response, response.status_code)
    assert "phone_gone" not in caplog.text and "supervisees.phone" in caplog.text  # the error was logged
    assert PHONE not in caplog.text
