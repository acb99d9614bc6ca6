"""The restore drill: a ``pg_dump -Fc`` of a live database is enough to serve again.

A scratch database is migrated and given data through the application; it is dumped with
``pg_dump -Fc``, restored with ``pg_restore`` into another new database, and the application
started on the copy (no ``flask db`` there: the dump carries the schema and its revision)
answers /readyz at the migrations' head, lets the officer log in and shows what was written.
docs/operations.md describes the same steps for a deployment.
"""
from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.app import create_app
from correction.database import db
from correction.scheduler_state import beat
from tests.conftest import FrozenClock, drop_database, make_settings, scratch_database_url, upgrade
from tests.factories import INSIDE, Auth, Factory, fix, upload

pytestmark = pytest.mark.postgresql_only

API = "/api/v1"


def _libpq(url: str) -> str:
    """The URL the PostgreSQL client programs take (no SQLAlchemy driver name)."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def scratch_databases(pg_url):
    urls = (scratch_database_url(pg_url, "drill_source"), scratch_database_url(pg_url, "drill_copy"))
    try:
        yield urls
    finally:
        for url in urls:
            drop_database(url)


def _started(url: str, clock: FrozenClock):
    app = create_app(make_settings(url), clock=clock)
    app.config["TESTING"] = True
    return app


def test_a_dump_restored_into_a_fresh_database_serves_at_head_with_its_data(scratch_databases, tmp_path):
    assert shutil.which("pg_dump") and shutil.which("pg_restore"), "the PostgreSQL client programs are needed"
    source_url, copy_url = scratch_databases
    clock = FrozenClock()

    upgrade(source_url)
    source = _started(source_url, clock)
    client = source.test_client()
    make = Factory(source, clock, Auth(client, clock))
    scene = make.scene(officer_login=True)
    stamp = clock() - timedelta(minutes=5)
    assert upload(client, scene.phone, [fix(stamp, INSIDE)]).get_json()["stored"] == 1
    with source.app_context():
        beat(db.session, host="scheduler-1", pid=1, leading_since=clock(), now=clock())
        db.session.commit()
        db.engine.dispose()

    dump = tmp_path / "correction.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), _libpq(source_url)],
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", _libpq(copy_url), str(dump)],
                   check=True, capture_output=True, timeout=120)

    restored = _started(copy_url, clock)
    client = restored.test_client()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json()["checks"]["migrations"]["ok"] is True
        headers = Auth(client, clock).officer(scene.officer)  # the password hash and TOTP secret came across
        person = client.get(f"{API}/supervisees/{scene.person_id}", headers=headers)
        assert person.status_code == 200, person.get_json()
        assert person.get_json()["name"] == scene.person.supervisee.name
        track = client.get(f"{API}/supervisees/{scene.person_id}/track",
                           query_string={"from": (stamp - timedelta(minutes=1)).isoformat(),
                                         "to": clock().isoformat()}, headers=headers)
        assert track.status_code == 200, track.get_json()
        assert [f["geometry"]["coordinates"] for f in track.get_json()["features"]] == [[INSIDE[1], INSIDE[0]]]
        # the sequences came across too: a new row does not collide with a restored one
        assert upload(client, Auth(client, clock).supervisee(scene.person),
                      [fix(stamp + timedelta(minutes=1), INSIDE)]).get_json()["stored"] == 1
    finally:
        with restored.app_context():
            db.session.remove()
            db.engine.dispose()
        with source.app_context():
            db.engine.dispose()
