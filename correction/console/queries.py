"""What the console's pages read besides the features' own services: names and choices, within scope."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..alerts.models import Alert
from ..alerts.service import COORDINATE_KEYS
from ..people.access import Principal, office_scope
from ..people.models import Office, Station, Supervisee
from ..people.service import visible_supervisees

MAX_CHOICES = 2000  # supervisees offered in a filter's list (a district has ~400)


def supervisee_names(session, principal: Principal, ids) -> dict[int, str]:
    """The names of the supervisees ``ids`` the caller may see."""
    ids = set(ids)
    if not ids:
        return {}
    rows = session.execute(visible_supervisees(principal).with_only_columns(Supervisee.id, Supervisee.name)
                           .where(Supervisee.id.in_(ids))).all()
    return dict(rows)


def supervisee_choices(session, principal: Principal) -> list[tuple[int, str]]:
    """The supervisees in scope, by name, for a filter."""
    return [tuple(row) for row in session.execute(
        visible_supervisees(principal).with_only_columns(Supervisee.id, Supervisee.name)
        .order_by(Supervisee.name, Supervisee.id).limit(MAX_CHOICES)).all()]


def office_choices(session, principal: Principal) -> list[tuple[int, str]]:
    """The offices a supervisor or admin sees (none for an office's officer: theirs is implied)."""
    if not principal.bureau_wide:
        return []
    return [tuple(row) for row in session.execute(
        sa.select(Office.id, Office.name).where(office_scope(principal, Office.id)).order_by(Office.name))]


def office_name(session, office_id: int) -> str:
    return session.execute(sa.select(Office.name).where(Office.id == office_id)).scalar_one()


def evidence_points(alert: Alert) -> list[dict[str, Any]]:
    """The fix an alert's evidence holds, for the map (none once retention stripped it)."""
    evidence = alert.evidence or {}
    if isinstance(evidence.get("lat"), (int, float)) and isinstance(evidence.get("lon"), (int, float)):
        return [{"lat": evidence["lat"], "lon": evidence["lon"], "accuracy_m": evidence.get("accuracy_m")}]
    return []


def evidence_facts(alert: Alert) -> list[tuple[str, Any]]:
    """The rest of the evidence, as (name, value) lines."""
    return [(key, value) for key, value in sorted((alert.evidence or {}).items()) if key not in COORDINATE_KEYS]


def office_stations(session, office_id: int) -> list[Station]:
    """The office's working stations (报到点), for a map."""
    return list(session.execute(sa.select(Station).where(Station.office_id == office_id, Station.active)
                                .order_by(Station.id)).scalars())
