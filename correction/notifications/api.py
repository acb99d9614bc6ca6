"""GET /me/notifications: the supervisee's outbox, newest first."""
from __future__ import annotations

from typing import Any

from ..api import ApiBlueprint
from ..people.access import current_principal
from ..database import db
from ..errors import NotFound
from ..schemas import Output, Page, PageQuery, UtcDateTime, paginate
from ..time import now
from . import service
from .models import Notification

import sqlalchemy as sa

bp = ApiBlueprint("notifications", __name__)


class NotificationQuery(PageQuery):
    unread: bool | None = None


class NotificationOut(Output):
    id: int
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: UtcDateTime
    read_at: UtcDateTime | None


@bp.operation("GET", "/me/notifications", summary="Your notifications, newest first",
              query=NotificationQuery, response=Page[NotificationOut], auth="supervisee")
def list_notifications(query: NotificationQuery):
    stmt = sa.select(Notification).where(Notification.supervisee_id == current_principal().id)
    if query.unread is not None:
        stmt = stmt.where(Notification.read_at.is_(None) if query.unread else Notification.read_at.is_not(None))
    return paginate(db.session, stmt, Notification.id, query, descending=True)


@bp.operation("POST", "/me/notifications/<id:notification_id>/read", summary="Mark a notification read",
              response=NotificationOut, auth="supervisee")
def read_notification(notification_id: int):
    item = service.mark_read(db.session, supervisee_id=current_principal().id,
                             notification_id=notification_id, now=now())
    if item is None:
        raise NotFound("No such notification.", code="notification_not_found")
    return item
