"""GET /audit: the audit trail for supervisors."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..api import ApiBlueprint
from ..people.access import current_principal
from ..database import db
from ..schemas import Output, Page, PageQuery, Text, UtcDateTime, paginate
from . import service
from .models import AuditEntry

bp = ApiBlueprint("audit", __name__)


class AuditQuery(PageQuery):
    actor_type: Literal["officer", "supervisee"] | None = None
    actor_id: int | None = Field(default=None, ge=1, le=2**31 - 1)  # 32-bit id columns
    action: Text(60) | None = None
    target_type: Text(40) | None = None
    target_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    outcome: Text(60) | None = None
    since: UtcDateTime | None = Field(default=None, description="Entries at or after this time.")
    until: UtcDateTime | None = Field(default=None, description="Entries before this time.")


class AuditEntryOut(Output):
    id: int
    at: UtcDateTime
    actor_type: str | None
    actor_id: int | None
    actor_label: str | None
    action: str
    target_type: str | None
    target_id: int | None
    outcome: str
    request_id: str | None
    ip: str | None
    details: dict[str, Any]


@bp.operation("GET", "/audit", summary="List your bureau's audit trail, newest first (admins: also entries of no bureau)",
              query=AuditQuery, response=Page[AuditEntryOut], auth="supervisor")
def list_audit(query: AuditQuery):
    principal = current_principal()
    filters = query.model_dump(exclude={"limit", "cursor"})
    stmt = service.search(db.session, bureau_id=principal.bureau_id, filters=filters,
                          unattributed=principal.role == "admin")
    return paginate(db.session, stmt, AuditEntry.id, query, descending=True)
