"""gunicorn as ``make run`` starts it: metrics added up across workers, JSON logs, no files left.

Two workers (rate limits off: the memory store would refuse them) each count the requests they
answer into PROMETHEUS_MULTIPROC_DIR; a scrape through either adds up both. The directory is a
temporary one of the server's, removed when it stops.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.core.test_log_redaction import ROOT, _listening_port

TOKEN = "metrics-token-for-gunicorn-0123456789"


def _get(url: str, headers: dict | None = None, timeout: float = 10) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_two_workers_are_counted_together_log_json_and_leave_nothing_behind(database_url, tmp_path):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "s" * 48, "CORRECTION_ENV": "test",
                "CORRECTION_LOG_LEVEL": "INFO", "CORRECTION_LOG_FORMAT": "json",
                "CORRECTION_RATELIMIT_ENABLED": "false", "CORRECTION_METRICS_TOKEN": TOKEN,
                "TMPDIR": str(tmp_path)})
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0",
         "--workers", "2", "--access-logfile", str(access), "--error-logfile", str(errors), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{_listening_port(server, errors)}"
        # Listening already: the first request waits for a worker (one that timed out would still
        # be answered, and counted, later).
        assert _get(f"{base}/livez", timeout=60)[0] == 200, errors.read_text()
        metrics_dirs = list(tmp_path.glob("correction-metrics-*"))
        assert len(metrics_dirs) == 1
        for _ in range(40):  # new connections each time: both workers answer some
            assert _get(f"{base}/livez")[0] == 200
        assert _get(f"{base}/metrics")[0] == 404
        status, text = _get(f"{base}/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200, text
        workers = {path.stem.rsplit("_", 1)[-1] for path in metrics_dirs[0].glob("counter_*.db")}
    finally:
        server.terminate()
        server.wait(timeout=30)

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("correction_http_requests_total",
                    (("endpoint", "/livez"), ("method", "GET"), ("status", "200")))] == 41, workers
    assert not metrics_dirs[0].exists(), "the server left its metrics directory behind"
    lines = [json.loads(line) for line in access.read_text().splitlines()]
    livez = [line for line in lines if line.get("path") == "/livez"]
    assert len(livez) == 41 and {"time", "level", "logger", "message", "status", "duration_ms"} <= set(livez[0])
    assert all(len(line["request_id"]) == 32 for line in livez)
    for line in errors.read_text().splitlines():
        assert isinstance(json.loads(line), dict)


def test_a_gunicorn_that_refuses_to_start_leaves_no_metrics_directory(database_url, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "s" * 48, "CORRECTION_ENV": "test",
                "CORRECTION_RATELIMIT_STORAGE_URI": "memory://", "TMPDIR": str(tmp_path)})
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--workers", "2",
                           "--bind", "127.0.0.1:0", "wsgi:app"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "memory://" in done.stderr  # refused: see test_rate_limits
    assert list(tmp_path.glob("correction-metrics-*")) == []
