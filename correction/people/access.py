"""Who is calling, and what they may see: the office scope every query of office-owned rows carries."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import g

from ..errors import NotFound, Unauthorized
from .models import Office, Officer, Supervisee


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    kind: str  # "officer" or "supervisee"
    id: int
    bureau_id: int
    office_id: int | None
    role: str | None  # officers only: officer, supervisor, admin
    token_id: int
    label: str
    # supervisees: the phone this login was made on. A phone is unbound only together with
    # revoking its logins (auth.service.reset_device), so a live token's phone is the bound one.
    device_id: int | None = None

    @property
    def is_officer(self) -> bool:
        return self.kind == "officer"

    @property
    def bureau_wide(self) -> bool:
        """Supervisors and admins see every office of their bureau."""
        return self.kind == "officer" and self.role in ("supervisor", "admin")


def current_principal() -> Principal:
    """Return the caller of this request (an endpoint declared with ``auth``)."""
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized()
    return principal


def caller_row(session) -> Officer | Supervisee:
    """The caller's own row, for the few endpoints that read or change it (a password, a TOTP enrolment)."""
    principal = current_principal()
    return session.get(Officer if principal.is_officer else Supervisee, principal.id)


def office_scope(principal: Principal, office_id_column) -> sa.ColumnElement[bool]:
    """Return the condition that limits rows with ``office_id_column`` to the caller's scope."""
    if principal.bureau_wide:
        return office_id_column.in_(sa.select(Office.id).where(Office.bureau_id == principal.bureau_id))
    if principal.kind == "officer":
        return office_id_column == principal.office_id
    return sa.false()


def get_in_scope(session, principal: Principal, model, object_id: int, *, not_found: NotFound, where=(),
                 scope: sa.ColumnElement[bool] | None = None):
    """Return the ``model`` row ``object_id`` if it lies in the caller's scope; else ``not_found`` (404).

    Out of scope and missing answer alike, so a caller learns nothing about other offices' rows.
    The scope is the caller's offices unless ``scope`` says otherwise (a supervisee's own rows);
    ``where`` adds conditions (an active row) that also read as missing.
    """
    if scope is None:
        scope = office_scope(principal, model.office_id)
    row = session.execute(sa.select(model).where(model.id == object_id, scope, *where)).scalar_one_or_none()
    if row is None:
        raise not_found
    return row
