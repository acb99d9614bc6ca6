"""Assertions and read-backs shared by the tests: the one error shape, rows and counts in the database."""
from __future__ import annotations

import sqlalchemy as sa

from correction.database import db


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
