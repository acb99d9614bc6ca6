"""The request's own connection: a hot path's writes without the ORM session, in the one unit of work.

A request that runs only a driver statement (a location app's fix) takes ``request_connection``
instead of the session; if it needs the session after all, the session takes that connection's
transaction over. Whatever mix a request used, it commits once, rolls back whole, keeps only what a
failure must keep, and gives the connection back to the pool.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from correction.api import ApiBlueprint
from correction.database import DriverStatement, db, request_connection
from correction.errors import DomainError
from correction.people.models import Bureau
from tests.assertions import count, error_of

PROBE = "/api/v1/probe/request-connection"
_INSERT = sa.text("INSERT INTO bureaus (code, name) VALUES (:code, :code)")
_SELF_END = DriverStatement("SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.fixture
def probe(app):
    """A POST endpoint that writes through its own connection, then (``?orm=1``) the session, then fails as told."""
    bp = ApiBlueprint("probe_request_connection", __name__)

    @bp.operation("POST", "/probe/request-connection", summary="probe", status=204, errors=(409,))
    def write():
        from flask import request
        connection = request_connection(db.session)
        connection.execute(_INSERT, {"code": "RC-CONNECTION"})
        if request.args.get("orm"):
            db.session.add(Bureau(code="RC-SESSION", name="RC-SESSION"))
            db.session.flush()
        if request.args.get("fail") == "domain":
            raise DomainError("refused", status=409, code="probe_refused",
                              keep=[lambda session: session.execute(_INSERT, {"code": "RC-KEPT"})])
        if request.args.get("fail") == "crash":
            raise RuntimeError("broken")
        if request.args.get("fail") == "lost":
            _SELF_END.one_or_none(connection, {})

    app.register_blueprint(bp, url_prefix="/api/v1")
    return app


def bureaus(app, code: str) -> int:
    return count(app, Bureau, Bureau.code == code)


def checked_out(app) -> int:
    with app.app_context():
        return db.engine.pool.checkedout()


@pytest.mark.parametrize("orm", ["", "1"])
def test_what_it_writes_is_committed_once_and_the_connection_goes_back(probe, client, orm):
    assert client.post(f"{PROBE}?orm={orm}").status_code == 204
    assert bureaus(probe, "RC-CONNECTION") == 1
    assert bureaus(probe, "RC-SESSION") == (1 if orm else 0)
    assert checked_out(probe) == 0


@pytest.mark.parametrize("orm", ["", "1"])
def test_a_crash_rolls_back_both_its_connection_and_the_session_that_took_it_over(probe, client, orm):
    assert error_of(client.post(f"{PROBE}?orm={orm}&fail=crash"), 500)["code"] == "internal_error"
    assert bureaus(probe, "RC-CONNECTION") == 0
    assert bureaus(probe, "RC-SESSION") == 0
    assert checked_out(probe) == 0


@pytest.mark.parametrize("orm", ["", "1"])
def test_a_refusal_keeps_only_what_it_must_keep(probe, client, orm):
    assert error_of(client.post(f"{PROBE}?orm={orm}&fail=domain"), 409)["code"] == "probe_refused"
    assert (bureaus(probe, "RC-CONNECTION"), bureaus(probe, "RC-SESSION"), bureaus(probe, "RC-KEPT")) == (0, 0, 1)
    assert checked_out(probe) == 0
    assert client.post(PROBE).status_code == 204  # the pool hands out a clean connection afterwards
    assert bureaus(probe, "RC-CONNECTION") == 1


def test_outside_a_request_it_is_the_sessions_own_connection(app):
    with app.app_context():
        connection = request_connection(db.session)
        assert connection is db.session.connection()
        connection.execute(_INSERT, {"code": "RC-OUTSIDE"})
        db.session.rollback()
        assert db.session.execute(sa.select(sa.func.count()).where(Bureau.code == "RC-OUTSIDE")).scalar() == 0


@pytest.mark.postgresql_only
def test_a_lost_connection_is_a_503_and_the_next_request_gets_a_good_one(probe, client):
    response = client.post(f"{PROBE}?fail=lost")
    assert error_of(response, 503)["code"] == "service_unavailable"
    assert bureaus(probe, "RC-CONNECTION") == 0
    assert checked_out(probe) == 0
    assert client.post(f"{PROBE}?orm=1").status_code == 204
    assert (bureaus(probe, "RC-CONNECTION"), bureaus(probe, "RC-SESSION")) == (1, 1)
