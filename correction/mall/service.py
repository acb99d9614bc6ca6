"""Items and orders: redemption debits points and stock together, or does nothing."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..people.access import Principal, get_in_scope, office_scope
from ..errors import Conflict, DomainError, NotFound
from ..people.models import Supervisee
from . import points
from .models import MallItem, Order


class RedemptionRefused(DomainError):
    status = 409


def create_item(session, principal: Principal, data: dict[str, Any], now: datetime) -> MallItem:
    """Add an item to the caller's office (supervisors name an office of their bureau)."""
    from ..people.service import office_for_write

    office_id = office_for_write(session, principal, data.pop("office_id", None))
    item = MallItem(office_id=office_id, created_at=now, updated_at=now, **data)
    session.add(item)
    session.flush()
    return item


def item_in_scope(session, principal: Principal, item_id: int) -> MallItem:
    return get_in_scope(session, principal, MallItem, item_id,
                        not_found=NotFound("No such item.", code="item_not_found"))


def update_item(session, principal: Principal, item_id: int, changes: dict[str, Any], now: datetime) -> MallItem:
    item = item_in_scope(session, principal, item_id)
    for name, value in changes.items():
        setattr(item, name, value)
    if changes:
        item.updated_at = now
    session.flush()
    return item


def items_for(principal: Principal) -> sa.Select:
    """Officers: their scope's items. Supervisees: their office's active items."""
    if principal.is_officer:
        return sa.select(MallItem).where(office_scope(principal, MallItem.office_id))
    return sa.select(MallItem).where(MallItem.office_id == principal.office_id, MallItem.active)


def orders_for(principal: Principal, *, status: str | None = None, supervisee_id: int | None = None) -> sa.Select:
    """The orders of an officer's scope, of one state or person when given."""
    stmt = sa.select(Order).where(office_scope(principal, Order.office_id))
    if status:
        stmt = stmt.where(Order.status == status)
    if supervisee_id:
        stmt = stmt.where(Order.supervisee_id == supervisee_id)
    return stmt


def redeem(session, settings, principal: Principal, *, item_id: int, idempotency_key: str,
           now: datetime) -> tuple[Order, bool]:
    """Debit points and stock and create the order in one transaction; (order, created).

    The person's balance row is locked first, so their own requests queue; the stock is
    taken with a conditional UPDATE, so concurrent buyers of the last item cannot both win.
    A key seen before returns that order (for the same item) instead of buying again.
    """
    person_id = principal.id
    balance = points.lock_balance(session, person_id)
    earlier = session.execute(sa.select(Order).where(Order.supervisee_id == person_id,
                                                     Order.idempotency_key == idempotency_key)).scalar_one_or_none()
    if earlier is not None:
        if earlier.item_id != item_id:
            raise DomainError("This Idempotency-Key was used for another item.", status=422,
                              code="idempotency_key_reused")
        return earlier, False
    person = session.get(Supervisee, person_id)
    item = session.execute(sa.select(MallItem).where(MallItem.id == item_id, MallItem.office_id == person.office_id)
                           ).scalar_one_or_none()
    if item is None:
        raise NotFound("No such item.", code="item_not_found")
    if not item.active:
        raise RedemptionRefused("This item is not offered any more.", code="item_inactive")
    if item.monthly_limit is not None:
        local = now.astimezone(ZoneInfo(settings.LOCAL_TIMEZONE))
        month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        taken = session.execute(sa.select(sa.func.count()).where(
            Order.supervisee_id == person_id, Order.item_id == item.id, Order.status != "cancelled",
            Order.created_at >= month_start)).scalar_one()
        if taken >= item.monthly_limit:
            raise RedemptionRefused("You have reached this item's monthly limit.", code="limit_reached",
                                    details={"monthly_limit": item.monthly_limit})
    if balance < item.cost:
        raise RedemptionRefused("Not enough points.", code="insufficient_points",
                                details={"balance": balance, "cost": item.cost})
    took = session.execute(sa.update(MallItem).where(MallItem.id == item.id, MallItem.stock > 0, MallItem.active)
                           .values(stock=MallItem.stock - 1), execution_options={"preserve_rowcount": True}).rowcount
    if took != 1:
        raise RedemptionRefused("This item is out of stock.", code="out_of_stock")
    order = Order(supervisee_id=person_id, office_id=person.office_id, item_id=item.id, cost=item.cost,
                  status="pending", idempotency_key=idempotency_key, created_at=now)
    session.add(order)
    session.flush()
    points.post(session, supervisee_id=person_id, office_id=person.office_id, delta=-item.cost,
                event="redemption", event_ref=f"order:{order.id}", reason=f"兑换 {item.name}", now=now)
    return order, True


def order_in_scope(session, principal: Principal, order_id: int) -> Order:
    own = None if principal.is_officer else Order.supervisee_id == principal.id  # a supervisee's: their own
    return get_in_scope(session, principal, Order, order_id, scope=own,
                        not_found=NotFound("No such order.", code="order_not_found"))


def fulfil(session, principal: Principal, order_id: int, now: datetime, *, verified_supervisee: int | None) -> Order:
    """Hand a pending order over; a scanned status code must belong to the order's person."""
    order = order_in_scope(session, principal, order_id)
    if verified_supervisee is not None and verified_supervisee != order.supervisee_id:
        raise DomainError("The status code scanned is not this order's supervisee.", status=422,
                          code="wrong_person")
    _close(session, order, "fulfilled", principal, now, note=None)
    return order


def cancel(session, principal: Principal, order_id: int, now: datetime, note: str | None) -> Order:
    """Cancel a pending order: stock and points come back, exactly once."""
    order = order_in_scope(session, principal, order_id)
    points.lock_balance(session, order.supervisee_id)
    _close(session, order, "cancelled", principal, now, note=note)
    session.execute(sa.update(MallItem).where(MallItem.id == order.item_id).values(stock=MallItem.stock + 1))
    points.post(session, supervisee_id=order.supervisee_id, office_id=order.office_id, delta=order.cost,
                event="refund", event_ref=f"order:{order.id}", reason="订单取消退还积分", now=now,
                officer_id=principal.id if principal.is_officer else None)
    return order


def _close(session, order: Order, status: str, principal: Principal, now: datetime, note: str | None) -> None:
    stamp = {"fulfilled_at": now} if status == "fulfilled" else {"cancelled_at": now}
    claimed = session.execute(sa.update(Order).where(Order.id == order.id, Order.status == "pending").values(
        status=status, closed_by=principal.id if principal.is_officer else None, note=note, **stamp),
        execution_options={"preserve_rowcount": True}).rowcount
    if claimed != 1:
        session.refresh(order)
        raise Conflict(f"This order is already {order.status}.", code=f"order_already_{order.status}")
    session.refresh(order)


def adjust(session, principal: Principal, *, supervisee_id: int, delta: int, reason: str, now: datetime,
           request_id: str):
    """An officer's award or deduction, with the reason on the ledger line."""
    from ..people.service import get_supervisee

    person = get_supervisee(session, principal, supervisee_id)
    entry = points.post(session, supervisee_id=person.id, office_id=person.office_id, delta=delta,
                        event="adjustment", event_ref=f"adjustment:{request_id}", reason=reason, now=now,
                        officer_id=principal.id)
    if entry is None:  # the client sent an X-Request-ID already used for an adjustment of this person
        raise Conflict("An adjustment with this X-Request-ID was already posted.", code="adjustment_already_posted")
    return entry
