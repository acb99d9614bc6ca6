"""The database handle, the declarative base and the per-dialect connection set-up."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa
from flask import g, has_app_context
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

from .time import TZDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base: aware timestamps and JSON by annotation, named constraints.

    ``float`` stays ``Float`` (SQLAlchemy 2.1 would map it to ``Double``): the migrations
    created FLOAT columns, double precision on PostgreSQL either way.
    """

    registry = sa.orm.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: TZDateTime(), dict[str, Any]: JSONType, float: sa.Float()},
    )


class Session(FlaskSession):
    """The application's session; in a request that opened its connection first, it takes that over.

    A hot path that needs no ORM (``request_connection``) runs on a Core connection of the request's
    own; when the same request then needs the session after all (a fix that is not the usual case),
    the session takes that connection's transaction over (``control_fully``), so that everything the
    request wrote commits, or rolls back, together.
    """

    def __init__(self, db, **options):
        connection = g.get(_CONNECTION) if has_app_context() else None
        if connection is not None:
            options.update(bind=connection, join_transaction_mode="control_fully")
        super().__init__(db, **options)

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and isinstance(self.bind, sa.Connection):
            return self.bind
        return super().get_bind(mapper, clause, bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False, "class_": Session})
_CONNECTION = "request_connection"
_UNIT_OF_WORK = "unit_of_work"


def begin_request() -> None:
    """Mark the request as a unit of work: ``request_connection`` may open a connection of its own."""
    setattr(g, _UNIT_OF_WORK, True)


def request_connection(session) -> sa.Connection:
    """A connection in the request's transaction, without the ORM session's machinery if it can be.

    The session's begin, commit and close cost a one-statement request (a location app's fix) about as
    much CPU as a statement does. In a unit of work (``begin_request``) whose session has not begun,
    this opens a Core connection and begins on it; ``commit_request`` commits it, ``end_request``
    rolls it back if it was not. A session opened later in the request takes it over (``Session``).
    Anywhere else it is ``session.connection()``.
    """
    connection = g.get(_CONNECTION)
    if connection is not None:
        return connection
    if getattr(session, "registry", None) is None or session.registry.has() or not g.get(_UNIT_OF_WORK):
        return session.connection()
    connection = db.engine.connect()
    setattr(g, _CONNECTION, connection)
    connection.begin()
    return connection


def commit_request(session) -> None:
    """Commit what the request wrote: through its session, and its own connection (if it opened one)."""
    if session.registry.has():
        session.commit()
    connection = g.get(_CONNECTION)
    if connection is not None and connection.in_transaction():
        connection.commit()


def end_request(session) -> None:
    """Give the request's own connection back (rolled back if it was not committed); idempotent."""
    connection = g.pop(_CONNECTION, None)
    if connection is None:
        return
    if session.registry.has() and session().bind is connection:
        session.remove()  # the session took it over: it goes with it
    connection.close()


def configure_engine(engine: sa.Engine) -> None:
    """Set SQLite up for concurrent use: WAL, foreign keys, and write-locking transactions.

    pysqlite's own transaction handling begins lazily and upgrades read locks to write locks
    mid-transaction, which fails instead of waiting when two writers meet. Every transaction
    here starts with BEGIN IMMEDIATE, so concurrent writers queue on busy_timeout instead.
    """
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(session) -> Any:
    """Return the dialect's ``insert`` construct, which supports ON CONFLICT."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def prebuilt(build: Callable[[Any], sa.Executable]) -> Callable[[Any], sa.Executable]:
    """Build a hot path's statement once per dialect instead of on every request.

    ``build`` gets the dialect's ``insert`` construct and returns a statement whose values
    are bind parameters; the decorated function takes a session and returns that statement.
    Composing a statement costs more than running a simple one, so the few statements of
    the busiest endpoints (check-ins, point posts) are composed once.
    """
    built: dict[str, sa.Executable] = {}

    def for_session(session) -> sa.Executable:
        name = session.get_bind().dialect.name
        if name not in built:
            built[name] = build(insert_for(session))
        return built[name]

    for_session.__doc__ = build.__doc__
    return for_session


def json_object(session, **pairs) -> Any:
    """Return a SQL expression building a JSON object, for set-based INSERT ... SELECT."""
    args = [item for key, value in pairs.items() for item in (sa.literal(key), value)]
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.json_build_object(*args), JSONB)
    return sa.func.json_object(*args)


def iso_utc_text(session, column) -> Any:
    """Return a SQL expression formatting a UTC timestamp column as ISO 8601 with Z."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    return sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", column)


class DriverStatement:
    """A hot path's statement run on the request's connection through the driver (PostgreSQL).

    SQLAlchemy's execution (compiled-cache lookup, execution context, result wrapping) costs
    about as much CPU as the driver's round trip for a one-row statement; a request that is
    nothing but that statement (a location app's fix) runs it through psycopg directly: in the
    request's transaction, prepared on the server after its first uses, one row back as a named
    tuple. Driver errors reach the caller as SQLAlchemy's (``DBAPIError.instance``), so the unit of
    work answers a lost connection or a conflict as for every statement; a broken connection is
    invalidated, not handed back to the pool. The engine's ``before_cursor_execute`` listeners see the
    statement as they see every other (tests and profiles count statements so). Parameters are
    written ``:name`` as in ``sa.text``.
    """

    def __init__(self, sql: str):
        self.sql = sql
        self._driver_sql = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))

    def one_or_none(self, bind, params: dict[str, Any]) -> Any:
        """Run the statement on ``bind`` (a Connection, or a session's connection); its one row or None."""
        import psycopg
        from psycopg.rows import namedtuple_row

        connection = bind if isinstance(bind, sa.Connection) else bind.connection()
        driver = connection.connection.driver_connection
        try:
            with driver.cursor(row_factory=namedtuple_row) as cursor:
                if connection._has_events or connection.engine._has_events:
                    for listener in connection.dispatch.before_cursor_execute:
                        listener(connection, cursor, self.sql, params, None, False)
                cursor.execute(self._driver_sql, params, prepare=True)
                return cursor.fetchone()
        except psycopg.Error as error:
            broken = driver.broken or driver.closed
            if broken:
                connection.invalidate(error)
            raise sa.exc.DBAPIError.instance(self.sql, params, error, psycopg.Error, hide_parameters=True,
                                             connection_invalidated=bool(broken)) from error

    def autocommitted(self, connection: sa.Connection, params: dict[str, Any]) -> Any:
        """``one_or_none`` in a transaction of the statement's own, which the server commits as the statement
        ends: one round trip, no BEGIN or COMMIT. ``connection`` must have no transaction open on the server
        (``idle``); afterwards it begins transactions as before."""
        driver = connection.connection.driver_connection
        driver.autocommit = True
        try:
            return self.one_or_none(connection, params)
        finally:
            if not (driver.broken or driver.closed):
                driver.autocommit = False


def idle(connection: sa.Connection) -> bool:
    """Whether ``connection`` (PostgreSQL, through psycopg) has no transaction open on the server."""
    from psycopg.pq import TransactionStatus

    return connection.connection.driver_connection.info.transaction_status == TransactionStatus.IDLE


_NAMED = re.compile(r"(?<![:\w]):(\w+)")
