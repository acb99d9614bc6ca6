"""Points and mall endpoints for supervisees and officers."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g, request

from ..api import Answer, ApiBlueprint, audit_filters
from ..people import status_token
from ..people.access import current_principal
from ..database import db
from ..errors import DomainError, ValidationFailed
from ..schemas import Page, PageQuery, paginate
from ..time import now
from . import rules, service
from .models import MallItem, Order, PointEntry
from .schemas import (IDEMPOTENCY_KEY, AdjustmentIn, BalanceOut, CancelIn, FulfilIn, ItemIn, ItemOut, ItemUpdate,
                      LedgerEntryOut, OrderIn, OrderOut, OrderQuery, RuleHistoryOut, RulesOut, RuleVersionIn,
                      RuleVersionOut)

bp = ApiBlueprint("mall", __name__)
_KEY = re.compile(IDEMPOTENCY_KEY)


def _settings():
    return current_app.config["SETTINGS"]


@bp.operation("GET", "/me/points", summary="Your points balance", response=BalanceOut, auth="supervisee")
def my_points():
    person_id = current_principal().id
    local = now().astimezone(ZoneInfo(_settings().LOCAL_TIMEZONE))
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total, earned, spent = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(PointEntry.delta), 0),
        sa.func.coalesce(sa.func.sum(sa.case((sa.and_(PointEntry.delta > 0, PointEntry.event != "refund",
                                                      PointEntry.created_at >= month_start),
                                              PointEntry.delta), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((sa.and_(PointEntry.event.in_(("redemption", "refund")),
                                                      PointEntry.created_at >= month_start),
                                              -PointEntry.delta), else_=0)), 0),
    ).where(PointEntry.supervisee_id == person_id)).one()
    return {"supervisee_id": person_id, "balance": total, "earned_this_month": earned, "spent_this_month": spent}


@bp.operation("GET", "/me/points/ledger", summary="Your points ledger, newest first", query=PageQuery,
              response=Page[LedgerEntryOut], auth="supervisee")
def my_ledger(query: PageQuery):
    stmt = sa.select(PointEntry).where(PointEntry.supervisee_id == current_principal().id)
    return paginate(db.session, stmt, PointEntry.id, query, descending=True)


@bp.operation("POST", "/points/adjustments", summary="Award or deduct points, with a reason",
              body=AdjustmentIn, response=LedgerEntryOut, status=201, auth="officer", audit="points.adjust",
              errors=(409,))
def adjust_points(body: AdjustmentIn):
    limit = _settings().POINT_ADJUSTMENT_MAX
    if body.delta == 0 or abs(body.delta) > limit:
        raise ValidationFailed(details={"fields": [{"path": "delta", "code": "out_of_bounds",
                                                    "message": f"non-zero, at most {limit} either way"}]})
    g.audit.target_type, g.audit.target_id = "supervisee", body.supervisee_id
    g.audit.details = {"delta": body.delta}
    return service.adjust(db.session, current_principal(), supervisee_id=body.supervisee_id, delta=body.delta,
                          reason=body.reason, now=now(), request_id=g.request_id)


@bp.operation("GET", "/mall/items", summary="Items: officers see their scope's, supervisees their office's offer",
              query=PageQuery, response=Page[ItemOut], auth="any")
def list_items(query: PageQuery):
    return paginate(db.session, service.items_for(current_principal()), MallItem.id, query)


@bp.operation("POST", "/mall/items", summary="Offer a new item", body=ItemIn, response=ItemOut, status=201,
              auth="officer", audit="mall.item_create")
def create_item(body: ItemIn):
    item = service.create_item(db.session, current_principal(), body.model_dump(), now())
    g.audit.target_type, g.audit.target_id = "mall_item", item.id
    return item


@bp.operation("PATCH", "/mall/items/<id:item_id>", summary="Change an item", body=ItemUpdate, response=ItemOut,
              auth="officer", audit="mall.item_update", audit_target=("mall_item", "item_id"))
def update_item(item_id: int, body: ItemUpdate):
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "cost", "stock", "active", "description"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(details={"fields": [{"path": name, "code": "null", "message": "must not be null"}]})
    g.audit.details = {"fields": sorted(changes)}
    return service.update_item(db.session, current_principal(), item_id, changes, now())


@bp.operation("POST", "/me/orders", summary="Redeem points for an item (send an Idempotency-Key header)",
              body=OrderIn, response=OrderOut, status=201, also=(200,), auth="supervisee", errors=(409,),
              headers=({"name": "Idempotency-Key", "required": True,
                        "description": "Retrying with the same key returns the first result.",
                        "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY}},))
def create_order(body: OrderIn):
    key = request.headers.get("Idempotency-Key")
    if key is None:
        raise DomainError("Send an Idempotency-Key header (8–64 letters, digits, - or _).", status=400,
                          code="idempotency_key_required")
    if not _KEY.match(key):
        raise DomainError("The Idempotency-Key must be 8–64 letters, digits, - or _.", status=422,
                          code="invalid_idempotency_key")
    order, created = service.redeem(db.session, _settings(), current_principal(), item_id=body.item_id,
                                    idempotency_key=key, now=now())
    return Answer(order, 201 if created else 200)


@bp.operation("GET", "/me/orders", summary="Your orders, newest first", query=PageQuery,
              response=Page[OrderOut], auth="supervisee")
def my_orders(query: PageQuery):
    stmt = sa.select(Order).where(Order.supervisee_id == current_principal().id)
    return paginate(db.session, stmt, Order.id, query, descending=True)


@bp.operation("POST", "/me/orders/<id:order_id>/cancel", summary="Cancel your pending order", body=CancelIn,
              response=OrderOut, auth="supervisee", errors=(409,))
def cancel_my_order(order_id: int, body: CancelIn):
    return service.cancel(db.session, current_principal(), order_id, now(), body.note)


@bp.operation("GET", "/mall/orders", summary="Orders in your scope, newest first", query=OrderQuery,
              response=Page[OrderOut], auth="officer", audit="mall.order_list")
def list_orders(query: OrderQuery):
    audit_filters(query)
    stmt = service.orders_for(current_principal(), status=query.status, supervisee_id=query.supervisee_id)
    return paginate(db.session, stmt, Order.id, query, descending=True)


@bp.operation("POST", "/mall/orders/<id:order_id>/fulfil", summary="Hand an order over", body=FulfilIn,
              response=OrderOut, auth="officer", audit="mall.order_fulfil", audit_target=("order", "order_id"),
              errors=(409,))
def fulfil_order(order_id: int, body: FulfilIn):
    verified = None
    if body.status_code:
        settings = _settings()
        verified = status_token.read_token(settings.SECRET_KEY, current_app.extensions["correction.clock"],
                                           body.status_code, settings.STATUS_CODE_TTL_SECONDS)
    return service.fulfil(db.session, current_principal(), order_id, now(), verified_supervisee=verified)


@bp.operation("POST", "/mall/orders/<id:order_id>/cancel", summary="Cancel an order: points and stock come back",
              body=CancelIn, response=OrderOut, auth="officer", audit="mall.order_cancel",
              audit_target=("order", "order_id"), errors=(409,))
def cancel_order(order_id: int, body: CancelIn):
    return service.cancel(db.session, current_principal(), order_id, now(), body.note)


@bp.operation("GET", "/point-rules", summary="The point rules in force today in your bureau, with scheduled changes",
              response=RulesOut, auth="officer")
def list_point_rules():
    return {"items": rules.rules_in_force(db.session, current_principal().bureau_id, now())}


@bp.operation("GET", "/point-rules/<event>/versions", summary="A point rule's versions in your bureau, newest first",
              response=RuleHistoryOut, auth="officer")
def point_rule_history(event: str):
    return {"items": rules.history(db.session, current_principal().bureau_id, event)}


@bp.operation("POST", "/point-rules/<event>/versions", summary="Change a point rule for your bureau from a date on",
              body=RuleVersionIn, response=RuleVersionOut, status=201, auth="supervisor",
              audit="point_rules.change", errors=(409,))
def change_point_rule(event: str, body: RuleVersionIn):
    version, before = rules.change(db.session, _settings(), current_principal(), event, body.model_dump(), now())
    g.audit.target_type, g.audit.target_id = "point_rule_version", version.id
    g.audit.details = {"event": event, "reason": version.reason, "before": rules.rule_values(before),
                       "after": rules.rule_values(version)}
    return version
