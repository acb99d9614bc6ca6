"""Assertions and read-backs shared by the tests: the one error shape, rows and counts in the database."""
from __future__ import annotations

import cv2
import numpy as np
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.checkins.models import Checkin
from correction.database import db
from correction.locations.models import LocationFix, ZoneEvent
from correction.mall.models import MallItem, Order, PointBalance, PointEntry
from tests.factories import API


def error_of(response, status: int) -> dict:
    """Assert ``response`` is an error of ``status`` in the one error shape; return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def error_code(response) -> str:
    """The code of an error answer in the one error shape."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "details"} <= set(body["error"]), body
    return body["error"]["code"]


def code_of(response) -> str:
    """The code of an error answer."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]["code"]


def field_paths(error: dict) -> set[str]:
    """The failing field paths of a validation error."""
    return {item["path"] for item in error["details"]["fields"]}


def rows(app, model, *where, order_by=None) -> list:
    """Every row of ``model`` matching ``where``, detached, oldest first."""
    with app.app_context():
        stmt = sa.select(model).where(*where).order_by(order_by if order_by is not None else model.id)
        found = db.session.execute(stmt).scalars().all()
        db.session.expunge_all()
    return list(found)


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()


def row_counts(app) -> dict[str, int]:
    """How many rows each table holds."""
    with app.app_context():
        return {table.name: db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in db.metadata.sorted_tables}


# --- read-backs of one kind of row ------------------------------------------------------------------

def checkins_of(app, supervisee_id: int) -> list[Checkin]:
    """Every check-in row of the supervisee, oldest first."""
    return rows(app, Checkin, Checkin.supervisee_id == supervisee_id)


def alerts(app, person_id: int | None = None, type: str | None = None) -> list[Alert]:
    """Every alert (of the person, of the type), oldest first."""
    where = [Alert.supervisee_id == person_id] if person_id is not None else []
    where += [Alert.type == type] if type is not None else []
    return rows(app, Alert, *where)


def stored_fixes(app, person_id: int | None = None) -> list[LocationFix]:
    """Every stored fix (of the person), in the order they were taken."""
    where = [LocationFix.supervisee_id == person_id] if person_id is not None else []
    return rows(app, LocationFix, *where, order_by=LocationFix.recorded_at)


def zone_events(app, person_id: int) -> list[ZoneEvent]:
    """The person's zone events, in the order they happened."""
    with app.app_context():
        found = db.session.execute(sa.select(ZoneEvent).where(ZoneEvent.supervisee_id == person_id)
                                   .order_by(ZoneEvent.at, ZoneEvent.id)).scalars().all()
        db.session.expunge_all()
    return list(found)


# --- points and the mall -------------------------------------------------------------------------

def balance_of(app, supervisee_id: int) -> int | None:
    """The stored balance row (None when there is none yet)."""
    with app.app_context():
        return db.session.execute(sa.select(PointBalance.balance)
                                  .where(PointBalance.supervisee_id == supervisee_id)).scalar_one_or_none()


def ledger_of(app, supervisee_id: int) -> list[tuple[int, str, str]]:
    """(delta, event, event_ref) of each ledger line of the person, oldest first."""
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            sa.select(PointEntry.delta, PointEntry.event, PointEntry.event_ref)
            .where(PointEntry.supervisee_id == supervisee_id).order_by(PointEntry.id))]


def ledger_sum(app, supervisee_id: int) -> int:
    return sum(delta for delta, _, _ in ledger_of(app, supervisee_id))


def assert_balances_match_ledger(app) -> None:
    """Every balance row equals its ledger sum, and everyone with ledger lines has a balance row."""
    with app.app_context():
        sums = dict(db.session.execute(sa.select(PointEntry.supervisee_id, sa.func.sum(PointEntry.delta))
                                       .group_by(PointEntry.supervisee_id)).all())
        balances = dict(db.session.execute(sa.select(PointBalance.supervisee_id, PointBalance.balance)).all())
    assert set(sums) <= set(balances), (sums, balances)
    assert {k: balances[k] for k in sums} == sums
    assert all(v == 0 for k, v in balances.items() if k not in sums), balances


def stock_of(app, item_id: int) -> int:
    with app.app_context():
        return db.session.execute(sa.select(MallItem.stock).where(MallItem.id == item_id)).scalar_one()


def orders_of(app, *where) -> list[Order]:
    return rows(app, Order, *where)


# --- what the API shows -----------------------------------------------------------------------------

def timeline(client, headers, supervisee_id: int, **params) -> dict:
    """A page of the supervisee's timeline as an officer (``headers``) reads it."""
    response = client.get(f"{API}/supervisees/{supervisee_id}/timeline", query_string=params,
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def decode_png(png: bytes) -> str:
    """Read a QR code out of a PNG with OpenCV's detectors, as a phone camera would.

    OpenCV's classic detector misses about one valid code in thirty (1,500 random station links:
    54 missed, each read by the ArUco-based one); phones' scanners are more forgiving than either,
    so a code counts as readable when one of the two reads it.
    """
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a PNG OpenCV can read"
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        text, points, _ = detector.detectAndDecode(image)
        if points is not None and text:
            return text
    raise AssertionError("no QR code found in the image")
