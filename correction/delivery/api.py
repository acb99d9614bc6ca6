"""POST|DELETE /me/push-token: the phone tells us (or forgets) where its pushes go.
GET /notifications: officers see how the notices to their people were delivered."""
from __future__ import annotations

from typing import Annotated, Literal

from flask import g
from pydantic import StringConstraints

from ..api import ApiBlueprint, audit_filters
from ..database import db
from ..people.access import current_principal
from ..schemas import Id, Input, Output, Page, PageQuery, UtcDateTime
from . import listing, push_tokens

bp = ApiBlueprint("delivery", __name__)


class PushTokenIn(Input):
    # JPush registration ids are short letters and digits; nothing else is stored.
    registration_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                                      pattern=r"^[A-Za-z0-9_.:\-]+$")]


@bp.operation("POST", "/me/push-token", summary="Register this phone's push id (JPush registration id)",
              body=PushTokenIn, status=204, auth="supervisee", audit="device.push_token.register",
              errors=(409,))
def register_push_token(body: PushTokenIn):
    g.audit.details = {"changed": push_tokens.register(db.session, current_principal(), body.registration_id)}


@bp.operation("DELETE", "/me/push-token", summary="Forget this phone's push id (no more pushes to it)",
              status=204, auth="supervisee", audit="device.push_token.remove")
def remove_push_token():
    g.audit.details = {"had_token": push_tokens.remove(db.session, current_principal())}


class DeliveryQuery(PageQuery):
    supervisee_id: Id | None = None
    state: Literal["queued", "sending", "delivered", "failed", "expired"] | None = None
    channel: Literal["push", "sms"] | None = None
    kind: Annotated[str, StringConstraints(max_length=40, pattern=r"^[a-z_]+$")] | None = None


class DeliveryOut(Output):
    id: int
    notification_id: int
    supervisee_id: int
    office_id: int
    kind: str
    title: str
    channel: str
    provider: str | None
    state: str
    attempts: int
    next_attempt_at: UtcDateTime
    expires_at: UtcDateTime | None
    provider_message_id: str | None
    last_error: str | None
    created_at: UtcDateTime
    finished_at: UtcDateTime | None
    read_at: UtcDateTime | None


@bp.operation("GET", "/notifications", summary="Deliveries of notices to your people: channel, state, failures",
              query=DeliveryQuery, response=Page[DeliveryOut], auth="officer", audit="delivery.list")
def list_deliveries(query: DeliveryQuery):
    audit_filters(query)
    return listing.deliveries_in_scope(db.session, current_principal(), query.model_dump(exclude={"limit", "cursor"}),
                                       query.limit, query.cursor)
