"""Shared benchmark plumbing: a scratch PostgreSQL database, a gunicorn server, a load driver."""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
# One key for the run, shared by the in-process app that builds the data and the served one.
SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)
BASE_PG = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def scratch_database(name: str) -> str:
    """Drop and create database ``name`` next to BENCH_DATABASE_URL's; return its URL.

    BENCH_SCRATCH_DATABASE names another one, so engineers sharing a server do not drop each other's.
    """
    from correction.config import normalise_database_url

    name = os.environ.get("BENCH_SCRATCH_DATABASE", name)

    admin = sa.create_engine(normalise_database_url(BASE_PG), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    parts = urlsplit(BASE_PG)
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids) -> float:
    """User plus system CPU the processes ``pids`` have used so far (those gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # gone since it was listed (a closed connection's backend)
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (a gunicorn master's workers)."""
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def postgres_processes() -> list[int]:
    """Every PostgreSQL server process on this machine: backends, WAL writer, checkpointer..."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, app: str = "wsgi:app"):
    """Run ``app`` under gunicorn with ``env``; yield its base URL (``.pid``: the master's process id)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", app],
        # every request comes from loopback: the per-address limits would measure themselves
        cwd=ROOT, env={**os.environ, "SECRET_KEY": SECRET_KEY, "CORRECTION_RATELIMIT_ENABLED": "false", **env})
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield _Served(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class _Served(str):
    """A served app's base URL that also knows its gunicorn master's process id."""

    def __new__(cls, url: str, pid: int):
        served = super().__new__(cls, url)
        served.pid = pid
        return served


def drive(requests_to_send: list, send, threads: int) -> dict:
    """Send every request with ``threads`` clients; return throughput, latency and errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    queue = list(reversed(requests_to_send))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop()
            started = time.perf_counter()
            problem = send(item)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if problem:
                    errors.append(problem)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"count": len(latencies), "seconds": wall, "per_second": len(latencies) / wall,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "errors": len(errors), "first_error": errors[0] if errors else None}


def migrated_app(url: str):
    """An app on ``url`` with every migration applied."""
    from flask_migrate import upgrade

    from correction.app import create_app
    from correction.config import Settings

    app = create_app(Settings.from_env(environ={}, DATABASE_URL=url, LOG_LEVEL="WARNING", SECRET_KEY=SECRET_KEY))
    with app.app_context():
        upgrade()
    return app


def one_office(session, created):
    """A bureau with one office and its officer; returns (office, officer)."""
    from correction.people.models import Bureau, Office, Officer

    bureau = Bureau(code="bench", name="bench")
    session.add(bureau)
    session.flush()
    office = Office(bureau_id=bureau.id, code="bench-office", name="bench office")
    session.add(office)
    session.flush()
    officer = Officer(bureau_id=bureau.id, office_id=office.id, username="bench", name="b", role="officer",
                      password_hash="x", totp_secret="x", active=True, created_at=created)
    session.add(officer)
    session.flush()
    return office, officer
