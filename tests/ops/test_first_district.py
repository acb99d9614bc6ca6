"""A real district goes live on an empty database, following docs/operations.md "First start".

The console steps run as a deployment runs them (`flask --app wsgi ...` in a subprocess, with the
environment a deployment sets); the rest goes through the HTTP API: the admin sets up an office, a
station and an officer; the officer enrols TOTP and chooses a password; 500 supervisees come in
from a spreadsheet (one bad row found by the dry run, fixed, then committed); the officer sees
them; and with the scheduler running, readiness and metrics answer as operators expect.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import openpyxl
import pyotp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from correction.app import create_app
from correction.database import db
from tests.conftest import FrozenClock, make_settings
from tests.factories import valid_national_id

ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"
SECRET_KEY = "first-district-secret-key-of-more-than-32-bytes"
METRICS_TOKEN = "operators-only-metrics-token"
ADMIN_PASSWORD = "console-chosen-2026"
HEADERS = ["姓名", "身份证号", "手机号", "矫正类别", "矫正开始日期", "矫正结束日期", "管理等级", "责任人"]
PEOPLE = 500


@pytest.fixture
def started():
    """Start the app on a database; its connections are closed at the end of the test."""
    apps = []

    def start(database_url: str, clock: FrozenClock):
        app = create_app(make_settings(database_url, SECRET_KEY=SECRET_KEY, METRICS_TOKEN=METRICS_TOKEN), clock=clock)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield start
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def deployment_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRECTION_")}
    env.update(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, FLASK_APP="wsgi", CORRECTION_LOG_FORMAT="text",
               CORRECTION_SCHEDULER_HEARTBEAT_SECONDS="1", CORRECTION_ARGON2_TIME_COST="1",
               CORRECTION_ARGON2_MEMORY_COST_KIB="8192")
    return env


def flask(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def spreadsheet(people: list[dict]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for person in people:
        sheet.append([person[h] for h in HEADERS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def post_file(client, headers, data: bytes, *, dry_run: bool):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), "省平台导出.xlsx")})
    return client.post(f"{API}/supervisees/imports?dry_run={'true' if dry_run else 'false'}", headers=headers,
                       data=body, content_type=f"multipart/form-data; boundary={boundary}")


def bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def import_requests(client) -> dict[str, float]:
    """How many import uploads the process answered so far, by status (counters are per process)."""
    return {s.labels["status"]: s.value for s in samples(client, "correction_http_requests_total")
            if s.labels["endpoint"] == f"{API}/supervisees/imports" and s.labels["method"] == "POST"}


def samples(client, name: str) -> list:
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    return [s for family in text_string_to_metric_families(scraped.get_data(as_text=True))
            for s in family.samples if s.name == name]


def test_a_district_goes_live_on_an_empty_database_by_the_operations_guide(empty_database_url, started):
    env = deployment_env(empty_database_url)

    # 1-2. the release step, then the bureau and its first admin at the console
    flask(env, "db", "upgrade")
    flask(env, "admin", "create-bureau", "--code", "jh-wc", "--name", "金华市婺城区司法局")
    made = flask(env, "admin", "create-admin", "--bureau", "jh-wc", "--username", "wc-admin", "--name", "王管理",
                 "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    uri = next(line for line in made.stdout.splitlines() if line.startswith("otpauth://"))
    admin_totp = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    assert ADMIN_PASSWORD not in made.stdout + made.stderr

    clock = FrozenClock(datetime.now(timezone.utc).replace(microsecond=0))
    client = started(empty_database_url, clock).test_client()

    # the scheduler is not running yet: the service is not ready, and says why
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.get_json()["error"]["details"]["failing"] == ["scheduler"]

    imports_before = import_requests(client)

    # 4. the admin logs in with the code from the console and sets the district up
    admin = bearer(client.post(f"{API}/auth/officer/login", json={
        "username": "wc-admin", "password": ADMIN_PASSWORD, "totp": admin_totp.at(clock())}))
    office = client.post(f"{API}/admin/offices", headers=admin, json={"code": "wc-cz", "name": "城中街道司法所"})
    assert office.status_code == 201, office.get_json()
    office_id = office.get_json()["id"]
    station = client.post(f"{API}/admin/stations", headers=admin, json={
        "office_id": office_id, "name": "城中所报到点", "lat": 29.0795, "lon": 119.6474, "radius_m": 80})
    assert station.status_code == 201, station.get_json()
    created = client.post(f"{API}/admin/officers", headers=admin, json={
        "username": "wc-cz-li", "name": "李专干", "role": "officer", "office_id": office_id,
        "initial_password": "handed-over-in-person"})
    assert created.status_code == 201, created.get_json()

    # 5. the officer's first login: enrol TOTP, choose a password; nothing else until then
    first = client.post(f"{API}/auth/officer/login", json={"username": "wc-cz-li",
                                                           "password": "handed-over-in-person"})
    officer = bearer(first)
    assert (first.get_json()["officer"]["totp_enrolment_required"],
            first.get_json()["officer"]["password_change_required"]) == (True, True)
    assert client.get(f"{API}/supervisees", headers=officer).status_code == 403
    assert client.get(f"{API}/auth/totp/enrolment.png", headers=officer).mimetype == "image/png"
    officer_totp = pyotp.TOTP(client.get(f"{API}/auth/totp/enrolment", headers=officer).get_json()["secret"])
    enrolled = client.post(f"{API}/auth/totp/enrolment", headers=officer, json={"code": officer_totp.at(clock())})
    assert enrolled.status_code == 204, enrolled.get_json()
    changed = client.post(f"{API}/auth/password", headers=officer, json={
        "current_password": "handed-over-in-person", "new_password": "li-chose-this-herself"})
    assert changed.status_code == 204, changed.get_json()
    clock.advance(seconds=30)  # the enrolment's code is spent; the next login needs a new one
    officer = bearer(client.post(f"{API}/auth/officer/login", json={
        "username": "wc-cz-li", "password": "li-chose-this-herself", "totp": officer_totp.at(clock())}))

    # 6. 500 people from the provincial export: the dry run finds the one bad row, nothing is written
    template = client.get(f"{API}/supervisees/imports/template.xlsx", headers=officer)
    assert [c.value for c in openpyxl.load_workbook(io.BytesIO(template.data)).worksheets[0][1]] == HEADERS
    people = [{"姓名": f"对象{n:03d}", "身份证号": valid_national_id(70_000 + n), "手机号": f"1380000{n:04d}",
               "矫正类别": ("缓刑", "假释", "管制", "暂予监外执行")[n % 4], "矫正开始日期": "2026-10-01",
               "矫正结束日期": "2027-09-30", "管理等级": ("严管", "普管", "宽管")[n % 3], "责任人": "wc-cz-li"}
              for n in range(PEOPLE)]
    good_id = people[137]["身份证号"]
    people[137]["身份证号"] = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # a typo: wrong check digit
    dry = post_file(client, officer, spreadsheet(people), dry_run=True)
    assert dry.status_code == 200, dry.get_json()
    report = dry.get_json()
    assert (report["rows"], report["refused"], report["created"], report["written"]) == (PEOPLE, 1, PEOPLE - 1, False)
    assert [(p["row"], p["column"]) for p in report["problems"]] == [(139, "身份证号")]  # header is row 1
    refused = post_file(client, officer, spreadsheet(people), dry_run=False)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "import_refused"
    assert client.get(f"{API}/supervisees", headers=officer).get_json()["items"] == []

    # ... fixed, then committed: all 500, and the same file again enrols nobody twice
    people[137]["身份证号"] = good_id
    fixed = spreadsheet(people)
    assert post_file(client, officer, fixed, dry_run=True).get_json()["problems"] == []
    committed = post_file(client, officer, fixed, dry_run=False)
    assert committed.status_code == 200, committed.get_json()
    assert (committed.get_json()["created"], committed.get_json()["written"]) == (PEOPLE, True)
    again = post_file(client, officer, fixed, dry_run=False).get_json()
    assert (again["created"], again["unchanged"]) == (0, PEOPLE)

    # the officer sees them, every one, page by page
    seen, cursor = [], None
    while True:
        page = client.get(f"{API}/supervisees", headers=officer,
                          query_string={"limit": 200, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(p["name"] for p in seen) == sorted(p["姓名"] for p in people)
    assert {p["office_id"] for p in seen} == {office_id}
    assert all(p["national_id_masked"].endswith(person["身份证号"][-4:]) and "*" in p["national_id_masked"]
               for p, person in zip(sorted(seen, key=lambda p: p["name"]), people))

    # 3. with the scheduler up, the service is ready; operators scrape what happened
    scheduler = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            clock.set(datetime.now(timezone.utc))
            ready = client.get("/readyz")
            if ready.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json()["status"] == "ready"
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=30)

    imports = import_requests(client)
    answered_here = {status: count - imports_before.get(status, 0) for status, count in imports.items()}
    assert {status: n for status, n in answered_here.items() if n} == {"200": 4, "422": 1}
    assert [s.value for s in samples(client, "correction_scheduler_heartbeat_age_seconds")][0] < timedelta(
        minutes=1).total_seconds()
    assert client.get("/metrics").status_code == 404  # not for anyone without the operators' token
