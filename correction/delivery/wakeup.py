"""The PostgreSQL wake-up: a thread in the scheduler leader LISTENs and dispatches at once.

A transaction that queues a notification sends ``NOTIFY correction_outbox`` (delivered at commit).
The listener holds one autocommit connection, waits for a notification (checking its stop flag
every second), then runs the dispatcher until nothing is due; notifications that arrive during a
run wait in the connection and start the next run at once. If the connection breaks it reconnects
after DELIVERY_INTERVAL_SECONDS; meanwhile the interval job still dispatches, so a lost wake-up
only costs latency.
"""
from __future__ import annotations

import logging
import threading


from ..database import db
from ..notifications.service import OUTBOX_CHANNEL
from .dispatcher import dispatch

log = logging.getLogger(__name__)


class OutboxListener(threading.Thread):
    """Dispatch as soon as a committed transaction queued a notification (PostgreSQL only)."""

    def __init__(self, app, stop: threading.Event):
        super().__init__(name="outbox-listener", daemon=True)
        self.app, self.stop = app, stop
        self.settings = app.config["SETTINGS"]
        self.listening = threading.Event()  # set while LISTEN is in force (tests wait on it)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._listen()
            except Exception:
                log.warning("outbox listener: connection lost; retrying", exc_info=True)
            self.listening.clear()
            self.stop.wait(self.settings.DELIVERY_INTERVAL_SECONDS)

    def _listen(self) -> None:
        with self.app.app_context():
            connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            raw = connection.connection.driver_connection
            raw.execute(f"LISTEN {OUTBOX_CHANNEL}")
            self.listening.set()
            while not self.stop.is_set():
                woken = any(True for _ in raw.notifies(timeout=1.0, stop_after=1))
                if woken:
                    self.dispatch()
        finally:
            connection.invalidate()  # the LISTEN must not go back to the pool
            connection.close()

    def dispatch(self) -> None:
        with self.app.app_context():
            try:
                dispatch(db.session, self.settings, self.app.extensions["correction.clock"]())
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("outbox listener: dispatch failed")
            finally:
                db.session.remove()


def start_listener(app, stop: threading.Event) -> OutboxListener | None:
    """Start the listener when the database is PostgreSQL and DELIVERY_LISTEN is on."""
    settings = app.config["SETTINGS"]
    if not settings.DATABASE_URL.startswith("postgresql") or not settings.DELIVERY_LISTEN:
        return None
    listener = OutboxListener(app, stop)
    listener.start()
    return listener
