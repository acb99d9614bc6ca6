"""GET /health: is the service up and does the database answer."""
from __future__ import annotations

from typing import Literal

from .api import ApiBlueprint
from .errors import DomainError
from .schemas import Output

bp = ApiBlueprint("health", __name__)


class HealthOut(Output):
    status: Literal["ok"]
    database: Literal["ok"]


@bp.operation("GET", "/health", summary="Check the service and its database", response=HealthOut)
def health():
    from . import database_is_up

    if not database_is_up():
        raise DomainError("The database does not answer.", status=503, code="service_unavailable")
    return {"status": "ok", "database": "ok"}
