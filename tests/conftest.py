"""Fixtures: a migrated database per run, a fresh app and clean tables per test.

The suite runs once per database: ``pytest --db sqlite`` and ``pytest --db postgresql``
(``TEST_DATABASE_URL``, default postgresql://postgres@127.0.0.1:5432/test). SQLite tests
each get a copy of a migrated template file; PostgreSQL tests share one migrated schema
that is truncated after each test.

Under pytest-xdist (``-n 2``) each worker is a process of its own with its own template file
and its own PostgreSQL database, ``TEST_DATABASE_URL``'s name suffixed with the worker id
(``test_gw0``), created when missing and migrated afresh once per run; without xdist the
database is ``TEST_DATABASE_URL``'s own.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from correction.app import create_app
from correction.config import Settings, normalise_database_url
from correction.database import db
from tests.factories import Auth, Factory

pytest_plugins = ["tests.browser"]  # the browser and live-server fixtures of the console's and the app's tests

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
START = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # Wednesday 10:00 in Shanghai
SEEDED_TABLES = {"point_rule_versions"}  # filled by a migration; restored after every PostgreSQL test


def pytest_addoption(parser):
    parser.addoption("--db", default=os.environ.get("CORRECTION_TEST_DB", "sqlite"),
                     choices=("sqlite", "postgresql"), help="database to run the suite on")


def pytest_report_header(config):
    return f"database: {config.getoption('--db')}"


def pytest_collection_modifyitems(config, items):
    if config.getoption("--db") == "postgresql":
        return
    skip = pytest.mark.skip(reason="PostgreSQL-only: runs in the PostgreSQL pass of make test")
    for item in items:
        if "postgresql_only" in item.keywords:
            item.add_marker(skip)


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime = START):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value


def make_settings(database_url: str, **overrides) -> Settings:
    """Settings for tests: cheap hashing, a fixed secret, no login rate limit to speak of."""
    values = dict(DATABASE_URL=database_url, SECRET_KEY="test-secret-key", ENV="test", ARGON2_TIME_COST=1,
                  ARGON2_MEMORY_COST_KIB=1024, ARGON2_PARALLELISM=1,
                  LOGIN_RATE_LIMIT="10000 per minute", LOG_LEVEL="WARNING")
    values.update(overrides)
    return Settings.from_env(environ={}, **values)


def upgrade(database_url: str) -> None:
    """Run every migration against ``database_url``."""
    from flask_migrate import upgrade as alembic_upgrade

    app = create_app(make_settings(database_url))
    with app.app_context():
        alembic_upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def db_kind(pytestconfig) -> str:
    return pytestconfig.getoption("--db")


def worker_database_url(base_url: str, worker: str | None) -> str:
    """The test database of an xdist worker: the base database's name suffixed with its id."""
    if not worker:
        return base_url
    url = sa.engine.make_url(base_url)
    return url.set(database=f"{url.database}_{worker}").render_as_string(hide_password=False)


@contextmanager
def _server(url: str):
    """A connection to the PostgreSQL server of ``url`` (outside its database, no transaction), and
    the database's name."""
    target = sa.engine.make_url(url)
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            yield conn, target.database
    finally:
        server.dispose()


def create_database(url: str, *, replace: bool = False) -> str:
    """Create ``url``'s PostgreSQL database (empty) unless it exists; ``replace`` drops it first."""
    with _server(url) as (conn, name):
        if replace:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return url


def drop_database(url: str) -> None:
    with _server(url) as (conn, name):
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def scratch_database_url(pg_url: str, purpose: str) -> str:
    """A new, empty PostgreSQL database beside the test database for one test, named by the
    process so that concurrent runs and xdist workers do not collide; drop it with drop_database."""
    name = f"correction_{purpose}_{os.getpid()}"
    return create_database(sa.engine.make_url(pg_url).set(database=name).render_as_string(hide_password=False),
                           replace=True)


@pytest.fixture(scope="session")
def pg_url(db_kind) -> str:
    """This process's PostgreSQL test database (an xdist worker's own, created if missing)."""
    url = worker_database_url(normalise_database_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)),
                              os.environ.get("PYTEST_XDIST_WORKER"))
    if db_kind == "postgresql":
        create_database(url)
    return url


@pytest.fixture
def empty_database_url(db_kind, pg_url, tmp_path):
    """A database with nothing in it, not even the schema: a new SQLite file, or a new PostgreSQL
    database beside the test database."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = scratch_database_url(pg_url, "empty")
    try:
        yield url
    finally:
        drop_database(url)


def reset_pg_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def seeded_rows(url: str) -> dict[str, list[dict]]:
    """The rows the migrations put in SEEDED_TABLES, to put back after truncating."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        seeded = {name: [dict(row) for row in conn.execute(
            sa.select(db.metadata.tables[name]).order_by(*db.metadata.tables[name].primary_key)).mappings()]
            for name in SEEDED_TABLES}
    engine.dispose()
    return seeded


@pytest.fixture(scope="session")
def template_database(db_kind, pg_url, tmp_path_factory) -> str:
    """A migrated database: a template file (SQLite) or the test schema (PostgreSQL)."""
    if db_kind == "postgresql":
        reset_pg_schema(pg_url)
        upgrade(pg_url)
        return pg_url
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(db_kind, template_database, tmp_path) -> str:
    if db_kind == "postgresql":
        return template_database
    path = tmp_path / "test.db"
    shutil.copyfile(template_database, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings_overrides() -> dict:
    """Override in a test module to change settings for its tests."""
    return {}


@pytest.fixture(scope="session")
def seeded(db_kind, template_database) -> dict[str, list[dict]]:
    return seeded_rows(template_database) if db_kind == "postgresql" else {}


@pytest.fixture
def app(database_url, clock, db_kind, settings_overrides, seeded):
    app = create_app(make_settings(database_url, **settings_overrides), clock=clock)
    app.config["TESTING"] = True
    yield app
    with app.app_context():
        db.session.remove()
        if db_kind == "postgresql":
            # Seeded tables go too (a cascade from their foreign keys would empty them anyway) and
            # are filled again, with their sequences where the migration left them.
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                for name, rows in seeded.items():
                    table = db.metadata.tables[name]
                    if rows:
                        conn.execute(sa.insert(table), rows)
                    if "id" in table.c:
                        conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                             f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"))
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app, clock, auth) -> Factory:
    return Factory(app, clock, auth)


@pytest.fixture
def auth(client, clock) -> Auth:
    return Auth(client, clock)


@pytest.fixture
def office(make):
    """An office of a bureau of its own."""
    return make.office()


@pytest.fixture
def officer(make, office):
    """An officer of ``office`` (an ``OfficerLogin``)."""
    return make.officer(office)


@pytest.fixture
def person(make, office, officer):
    """A ``normal`` supervisee of ``office`` in ``officer``'s care (a ``SuperviseeLogin``)."""
    return make.supervisee(office, officer.officer)
