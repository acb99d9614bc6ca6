"""``flask seed demo``: the demo district, idempotent, with logins that really work."""
from __future__ import annotations

import json

import pyotp
import pytest
import sqlalchemy as sa

from correction.database import db
from correction.people.models import Bureau, Office, Officer, Station, Supervisee
from correction.tools.cli import register as register_tools
from tests.assertions import count
from tests.factories import API


@pytest.fixture
def runner(app):
    """The CLI as ``wsgi.py`` builds it: the app's commands and the tools'."""
    register_tools(app)
    return app.test_cli_runner()


def seed(runner, path) -> dict:
    result = runner.invoke(args=["seed", "demo", "--json", str(path)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def table_counts(app) -> dict[str, int]:
    return {model.__tablename__: count(app, model) for model in (Bureau, Office, Station, Officer, Supervisee)}


@pytest.fixture
def logins(runner, tmp_path) -> dict:
    return seed(runner, tmp_path / "logins.json")


def test_seeding_twice_builds_the_district_once(app, runner, tmp_path):
    first = seed(runner, tmp_path / "first.json")
    counts = table_counts(app)
    assert counts == {"bureaus": 1, "offices": 5, "stations": 5, "officers": 12, "supervisees": 421}
    second = seed(runner, tmp_path / "second.json")
    assert table_counts(app) == counts
    assert second == first  # the same people, the same secrets


def test_the_json_lists_every_login(logins):
    assert len(logins["supervisees"]) == 421
    assert len(logins["stations"]) == 5
    assert {o["role"] for o in logins["officers"]} == {"officer", "supervisor", "admin"}
    assert len({p["phone"] for p in logins["supervisees"]}) == 421
    assert len({p["device_id"] for p in logins["supervisees"]}) == 421


def test_every_supervisee_is_in_an_office_with_a_responsible_officer_of_that_office(app, logins):
    with app.app_context():
        mismatched = db.session.execute(
            sa.select(sa.func.count()).select_from(Supervisee)
            .join(Officer, Officer.id == Supervisee.officer_id)
            .where(Officer.office_id != Supervisee.office_id)).scalar_one()
        per_office = db.session.execute(
            sa.select(Supervisee.office_id, sa.func.count()).group_by(Supervisee.office_id)).all()
    assert mismatched == 0
    assert len(per_office) == 5 and sum(n for _, n in per_office) == 421


def test_a_seeded_officer_logs_in_with_the_totp_secret_from_the_json(client, logins, clock):
    officer = next(o for o in logins["officers"] if o["role"] == "officer")
    response = client.post(f"{API}/auth/officer/login", json={
        "username": officer["username"], "password": officer["password"],
        "totp": pyotp.TOTP(officer["totp_secret"]).at(clock())})
    assert response.status_code == 200, response.get_json()
    token = response.get_json()["token"]
    people = client.get(f"{API}/supervisees", query_string={"limit": 200},
                        headers={"Authorization": f"Bearer {token}"}).get_json()["items"]
    assert people and {p["office_id"] for p in people} == {officer["office_id"]}


def test_the_seeded_supervisor_sees_the_whole_bureau(client, logins, clock):
    supervisor = next(o for o in logins["officers"] if o["role"] == "supervisor")
    response = client.post(f"{API}/auth/officer/login", json={
        "username": supervisor["username"], "password": supervisor["password"],
        "totp": pyotp.TOTP(supervisor["totp_secret"]).at(clock())})
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    seen, cursor = 0, None
    while True:
        params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"{API}/supervisees", query_string=params, headers=headers).get_json()
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == 421


def test_a_seeded_supervisee_logs_in_from_the_phone_in_the_json(client, logins):
    person = logins["supervisees"][0]
    response = client.post(f"{API}/auth/supervisee/login", json={
        "phone": person["phone"], "password": person["password"], "device_id": person["device_id"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["supervisee"]["id"] == person["id"]
    me = client.get(f"{API}/me", headers={"Authorization": f"Bearer {response.get_json()['token']}"})
    assert me.get_json()["supervisee"]["phone"] == person["phone"]


def test_the_json_and_the_output_hold_no_national_id(app, runner, tmp_path):
    result = runner.invoke(args=["seed", "demo", "--json", str(tmp_path / "l.json")])
    text = (tmp_path / "l.json").read_text(encoding="utf-8") + result.output
    with app.app_context():
        last4 = db.session.execute(sa.select(Supervisee.national_id_last4).limit(1)).scalar_one()
    assert "national_id" not in text
    assert not any(len(token) == 18 and token[:17].isdigit() for token in text.replace('"', " ").split())
    assert len(last4) == 4


class TestProduction:
    @pytest.fixture
    def settings_overrides(self):
        return {"ENV": "production", "SECRET_KEY": "production-secret-key-of-32-bytes!"}

    def test_demo_seeding_is_refused_in_production(self, app, runner, tmp_path):
        result = runner.invoke(args=["seed", "demo", "--json", str(tmp_path / "l.json")])
        assert result.exit_code != 0
        assert "production" in result.output
        assert count(app, Bureau) == 0
        assert not (tmp_path / "l.json").exists()
