"""What the console's pages read besides the features' own services: names and choices, within scope."""
from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa

from ..alerts.models import Alert
from ..alerts.service import COORDINATE_KEYS
from ..mall.models import MallItem
from ..people.access import Principal, office_scope
from ..people.models import Office, Station, Supervisee
from ..people.service import visible_supervisees

# Audit details are written without secrets; the page still hides what would be one if a writer slipped.
_SECRET_KEY = re.compile(r"password|secret|token|totp|id_number|national_id|api_key|key_hash", re.IGNORECASE)
_NATIONAL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
HIDDEN = "•••"

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


def item_names(session, ids) -> dict[int, str]:
    """The names of mall items ``ids`` (of orders already in scope)."""
    ids = set(ids)
    if not ids:
        return {}
    return dict(session.execute(sa.select(MallItem.id, MallItem.name).where(MallItem.id.in_(ids))).all())


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


def shown_entry(entry) -> dict[str, Any]:
    """An audit entry as the page shows it: secrets and national ID numbers hidden."""
    return {"id": entry.id, "at": entry.at, "actor_type": entry.actor_type, "actor_id": entry.actor_id,
            "actor_label": _hide_id_numbers(entry.actor_label or ""), "action": entry.action,
            "target_type": entry.target_type, "target_id": entry.target_id, "outcome": entry.outcome,
            "ip": entry.ip, "details": json.dumps(_hide(entry.details or {}), ensure_ascii=False, sort_keys=True)}


def _hide(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEY.search(key) and value not in (None, "", [], {}) and not isinstance(value, bool):
        return HIDDEN
    if isinstance(value, dict):
        return {k: _hide(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v) for v in value]
    return _hide_id_numbers(value) if isinstance(value, str) else value


def _hide_id_numbers(text: str) -> str:
    return _NATIONAL_ID.sub(lambda m: "*" * 14 + m.group(0)[-4:], text)
