"""`flask admin`: the first bureau and admin on an empty database, then the admin's first login."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp

from correction.people.models import Bureau, Officer
from tests.assertions import count, error_of, row_counts, rows
from tests.factories import API

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "console-chosen-2026"


def create_bureau(runner, code="jh-wc", name="金华市婺城区司法局"):
    return runner.invoke(args=["admin", "create-bureau", "--code", code, "--name", name])


def create_admin(runner, bureau="jh-wc", username="wc-root", password=PASSWORD):
    return runner.invoke(args=["admin", "create-admin", "--bureau", bureau, "--username", username,
                               "--name", "管理员", "--password-stdin"], input=password + "\n")


def test_the_first_bureau_and_admin_come_from_the_console_and_the_admin_logs_in_with_its_totp(
        app, runner, client, clock):
    assert row_counts(app)["bureaus"] == 0 and row_counts(app)["officers"] == 0
    made = create_bureau(runner)
    assert made.exit_code == 0, made.output
    assert "created bureau jh-wc" in made.output
    result = create_admin(runner)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    uri_line = next(line for line in result.output.splitlines() if line.startswith("otpauth://"))
    uri = urlparse(uri_line)
    assert uri.path == "/correction:wc-root"
    secret = parse_qs(uri.query)["secret"][0]
    assert "█" in result.output or "▀" in result.output or "▄" in result.output  # the terminal QR code
    (admin,) = rows(app, Officer, Officer.username == "wc-root")
    assert (admin.role, admin.office_id, admin.password_change_required, admin.totp_enrolment_required) == (
        "admin", None, False, False)

    # the code scanned at the console is needed at once; the password alone is refused
    without = client.post(f"{API}/auth/officer/login", json={"username": "wc-root", "password": PASSWORD})
    assert error_of(without, 401)["code"] == "invalid_credentials"
    login = client.post(f"{API}/auth/officer/login", json={
        "username": "wc-root", "password": PASSWORD, "totp": pyotp.TOTP(secret).at(clock())})
    assert login.status_code == 200, login.get_json()
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    # and the admin sets the district up through the API
    office = client.post(f"{API}/admin/offices", headers=headers, json={"code": "wc-cz", "name": "城中街道司法所"})
    assert office.status_code == 201
    officer = client.post(f"{API}/admin/officers", headers=headers, json={
        "username": "wc-cz-1", "name": "专干", "role": "officer", "office_id": office.get_json()["id"],
        "initial_password": "a-long-first-password"})
    assert officer.status_code == 201 and officer.get_json()["totp_enrolment_required"] is True


def test_a_second_bureau_with_the_same_code_is_refused(app, runner):
    assert create_bureau(runner).exit_code == 0
    again = create_bureau(runner, name="另一个")
    assert again.exit_code == 1
    assert "A bureau with code 'jh-wc' already exists." in again.output
    assert count(app, Bureau) == 1


def test_create_admin_refuses_clearly_and_writes_nothing(app, runner):
    unknown = create_admin(runner, bureau="nowhere")
    assert unknown.exit_code == 1 and "No bureau with code 'nowhere'." in unknown.output
    assert create_bureau(runner).exit_code == 0
    weak = create_admin(runner, password="password")
    assert weak.exit_code == 1 and "most common" in weak.output
    bad_name = runner.invoke(args=["admin", "create-admin", "--bureau", "jh-wc", "--username", "a b",
                                   "--name", "x", "--password-stdin"], input=PASSWORD + "\n")
    assert bad_name.exit_code == 2 and "--username" in bad_name.output
    assert create_admin(runner).exit_code == 0
    taken = create_admin(runner)
    assert taken.exit_code == 1 and "The username 'wc-root' is taken." in taken.output
    assert count(app, Officer) == 1


def test_the_password_is_prompted_for_twice_when_not_on_stdin(app, runner):
    assert create_bureau(runner).exit_code == 0
    result = runner.invoke(args=["admin", "create-admin", "--bureau", "jh-wc", "--username", "wc-root",
                                 "--name", "管理员"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and "otpauth://" in result.output


def test_the_command_is_there_with_flask_app_wsgi(database_url):
    env = {**os.environ, "FLASK_APP": "wsgi", "CORRECTION_DATABASE_URL": database_url,
           "CORRECTION_SECRET_KEY": "x" * 40, "CORRECTION_ENV": "test"}
    result = subprocess.run([sys.executable, "-m", "flask", "admin", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "create-bureau" in result.stdout and "create-admin" in result.stdout
