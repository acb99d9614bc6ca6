"""The app never serves with the public default SECRET_KEY or a short one, outside the test suite."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from correction.app import create_app
from correction.config import DEFAULT_SECRET_KEY, Settings, SettingsError
from correction.database import db

ROOT = Path(__file__).resolve().parents[2]


def _settings(database_url: str, **environ: str) -> Settings:
    return Settings.from_env(environ={"DATABASE_URL": database_url, "CORRECTION_LOG_LEVEL": "WARNING", **environ})


@pytest.mark.parametrize("env", [None, "development", "staging", "production-eu"])
def test_the_public_default_key_is_refused_whatever_env_says(database_url, env):
    settings = _settings(database_url, **({"CORRECTION_ENV": env} if env else {}))
    assert settings.SECRET_KEY == DEFAULT_SECRET_KEY
    with pytest.raises(SettingsError, match="public default"):
        create_app(settings)


@pytest.mark.parametrize("env", ["development", "production"])
def test_a_key_shorter_than_32_bytes_is_refused(database_url, env):
    short = "x" * 31
    with pytest.raises(SettingsError, match="shorter than 32 bytes") as caught:
        create_app(_settings(database_url, CORRECTION_ENV=env, SECRET_KEY=short))
    assert short not in str(caught.value)


def test_a_32_byte_key_starts_the_app(database_url):
    app = create_app(_settings(database_url, SECRET_KEY="k" * 32))
    try:
        assert app.test_client().get("/api/v1/health").status_code == 200
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_test_suite_alone_may_use_a_weak_key(app):
    settings = app.config["SETTINGS"]
    assert settings.ENV == "test" and len(settings.SECRET_KEY) < 32


def test_a_deployment_that_forgets_the_key_does_not_start(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "public default" in result.stderr


def test_make_keeps_one_random_private_key_in_the_instance_folder(tmp_path):
    make = ["make", "--no-print-directory", "-C", str(tmp_path), "-f", str(ROOT / "Makefile"),
            f"PYTHON={sys.executable}", "instance/secret_key"]
    subprocess.run(make, check=True, capture_output=True, timeout=60)
    key_file = tmp_path / "instance" / "secret_key"
    key = key_file.read_text().strip()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    Settings.from_env(environ={"SECRET_KEY": key}).check_secret_key()  # good enough to serve with
    subprocess.run(make, check=True, capture_output=True, timeout=60)
    assert key_file.read_text().strip() == key  # made once, then reused

    other = tmp_path / "other"
    other.mkdir()
    subprocess.run([*make[:3], str(other), *make[4:]], check=True, capture_output=True, timeout=60)
    assert (other / "instance" / "secret_key").read_text().strip() != key  # random per checkout

    dry_run = subprocess.run(["make", "-n", "-C", str(ROOT), "run"],
                             check=True, capture_output=True, text=True, timeout=60).stdout
    served = [line for line in dry_run.splitlines() if "flask db upgrade" in line or "flask seed" in line
              or line.startswith("export SECRET_KEY")]
    assert len(served) == 3 and all("instance/secret_key" in line for line in served), dry_run
