"""Writing and reading the audit trail."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g, request

from ..api import AuditDraft
from ..time import now as clock_now
from .models import AuditEntry


def record(session, *, at: datetime, action: str, outcome: str, actor_type: str | None = None,
           actor_id: int | None = None, actor_label: str | None = None,
           bureau_id: int | None = None, target_type: str | None = None,
           target_id: int | None = None, request_id: str | None = None, ip: str | None = None,
           details: dict[str, Any] | None = None) -> None:
    """Append one entry to the audit trail."""
    session.add(AuditEntry(at=at, action=action, outcome=outcome, actor_type=actor_type,
                           actor_id=actor_id, actor_label=actor_label, bureau_id=bureau_id,
                           target_type=target_type, target_id=target_id, request_id=request_id,
                           ip=ip, details=details or {}))


def record_draft(session, draft: AuditDraft, outcome: str) -> None:
    """Append the entry a request drafted, filling the actor from the authenticated caller."""
    principal = g.get("principal")
    if principal is not None:
        draft.actor_type = draft.actor_type or principal.kind
        draft.actor_id = draft.actor_id or principal.id
        draft.actor_label = draft.actor_label or principal.label
        draft.bureau_id = draft.bureau_id or principal.bureau_id
    record(session, at=clock_now(), action=draft.action, outcome=outcome,
           actor_type=draft.actor_type, actor_id=draft.actor_id, actor_label=draft.actor_label,
           bureau_id=draft.bureau_id, target_type=draft.target_type, target_id=draft.target_id,
           request_id=g.get("request_id"), ip=request.remote_addr, details=draft.details)


def search(session, *, bureau_id: int, filters: dict[str, Any], unattributed: bool = False) -> sa.Select:
    """Return the query for a bureau's audit entries matching ``filters``.

    ``unattributed`` adds the entries no bureau can be told for (a login attempt at a username
    or phone number nobody holds): they are shown to every bureau's admins.
    """
    in_bureau = AuditEntry.bureau_id == bureau_id
    stmt = sa.select(AuditEntry).where(sa.or_(in_bureau, AuditEntry.bureau_id.is_(None)) if unattributed else in_bureau)
    for name in ("actor_type", "actor_id", "action", "target_type", "target_id", "outcome"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(AuditEntry, name) == filters[name])
    if filters.get("since") is not None:
        stmt = stmt.where(AuditEntry.at >= filters["since"])
    if filters.get("until") is not None:
        stmt = stmt.where(AuditEntry.at < filters["until"])
    return stmt
