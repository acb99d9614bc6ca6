"""Migrations from an empty database, on the database of this run (``--db``).

``flask db upgrade`` must build the whole schema from nothing; the result must match the
models exactly (alembic's autogenerate comparison finds nothing to do); ``flask db downgrade
base`` must remove every table again, and a second upgrade must work on what is left. The
audit trail's append-only triggers come from the migrations, so they are checked here too,
on a database built only by the migrations.
"""
from __future__ import annotations


import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from correction.app import create_app
from correction.database import db
from tests.conftest import make_settings as settings_for

@pytest.fixture
def migration_app(empty_database_url):
    app = create_app(settings_for(empty_database_url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def flask_db(app, *args: str) -> None:
    """Run ``flask db <args>`` through the CLI and fail loudly if it does not succeed."""
    result = app.test_cli_runner().invoke(args=["db", *args], catch_exceptions=True)
    assert result.exit_code == 0, (args, result.output, result.exception)
    if result.exception is not None:  # a command that swallows its error still fails here
        raise result.exception


def table_names(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


def head_revision(app) -> str:
    with app.app_context():
        directory = app.extensions["migrate"].directory
        from alembic.config import Config
        config = Config()
        config.set_main_option("script_location", directory)
        return ScriptDirectory.from_config(config).get_current_head()


def current_revision(app) -> str | None:
    with app.app_context(), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_differences(app) -> list:
    """What autogenerate would put in a new migration (nothing, when models and migrations agree)."""
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": False})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_models_and_downgrade_removes_everything(migration_app, db_kind):
    app = migration_app
    assert table_names(app) == set()

    flask_db(app, "upgrade")
    assert current_revision(app) == head_revision(app)
    model_tables = {table.name for table in db.metadata.sorted_tables}
    assert table_names(app) == model_tables | {"alembic_version"}

    differences = schema_differences(app)
    assert differences == [], "models and migrations disagree:\n" + "\n".join(map(repr, differences))

    flask_db(app, "downgrade", "base")
    assert table_names(app) <= {"alembic_version"}
    assert current_revision(app) is None
    if db_kind == "postgresql":  # functions and types created by migrations go too
        with app.app_context(), db.engine.connect() as conn:
            functions = conn.execute(sa.text(
                "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'")).scalars().all()
            types = conn.execute(sa.text(
                "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE n.nspname = 'public' AND t.typtype = 'e'")).scalars().all()
        assert functions == [] and types == []

    flask_db(app, "upgrade")
    assert current_revision(app) == head_revision(app)
    assert table_names(app) == model_tables | {"alembic_version"}
    assert schema_differences(app) == []


def test_migrated_audit_entries_refuse_update_and_delete(migration_app):
    app = migration_app
    flask_db(app, "upgrade")
    with app.app_context(), db.engine.connect() as conn:
        with conn.begin():
            entry_id = conn.execute(sa.text(
                "INSERT INTO audit_entries (at, action, outcome, details) "
                "VALUES (:at, 'test.entry', 'ok', '{}') RETURNING id"),
                {"at": "2026-11-25 02:00:00+00:00"}).scalar_one()

        for statement in ("UPDATE audit_entries SET outcome = 'tampered' WHERE id = :id",
                          "DELETE FROM audit_entries WHERE id = :id",
                          "DELETE FROM audit_entries"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with conn.begin():
                    conn.execute(sa.text(statement), {"id": entry_id})

        rows = conn.execute(sa.text("SELECT id, outcome FROM audit_entries")).all()
    assert [tuple(row) for row in rows] == [(entry_id, "ok")]
