"""GET /health: is the service up and does the database answer."""
from __future__ import annotations

from typing import Literal

import sqlalchemy as sa

from .api import ApiBlueprint
from .database import db
from .errors import DomainError
from .schemas import Output

bp = ApiBlueprint("health", __name__)


class HealthOut(Output):
    status: Literal["ok"]
    database: Literal["ok"]


@bp.operation("GET", "/health", summary="Check the service and its database", response=HealthOut)
def health():
    if not database_is_up():
        raise DomainError("The database does not answer.", status=503, code="service_unavailable")
    return {"status": "ok", "database": "ok"}


def database_is_up() -> bool:
    """Return whether the database answers a trivial query."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return False
