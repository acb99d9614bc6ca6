"""The points mall for officers: orders to hand over or cancel, and the items their office offers.

The same services, scope, refusals and audit actions as ``/api/v1/mall/...`` (``mall.service``);
a refusal (an order already handed over, a status code of someone else) is shown as a page
saying why, with the way back to the list.
"""
from __future__ import annotations

from flask import current_app, g, render_template, request, url_for

from ..api import audit_filters
from ..database import db
from ..mall import service
from ..mall.models import ORDER_STATUSES, MallItem, Order
from ..mall.schemas import CancelIn, FulfilIn, ItemIn, ItemUpdate, OrderQuery
from ..people import status_token
from ..people.access import current_principal
from ..schemas import PageQuery, paginate
from ..time import now
from . import queries
from .blueprint import bp
from .forms import form_of, query_of
from .web import see_other

ITEM_FIELDS = ("name", "description", "cost", "stock", "monthly_limit", "active", "office_id")
EDITABLE = ("cost", "stock", "active")


@bp.page("GET", "/mall/orders", audit="mall.order_list")
def orders():
    """Orders in scope, newest first: pending ones to hand over or cancel."""
    query = query_of(OrderQuery)
    audit_filters(query)
    principal = current_principal()
    page = paginate(db.session, service.orders_for(principal, status=query.status,
                                                   supervisee_id=query.supervisee_id), Order.id, query, descending=True)
    chosen = {name: value for name, value in request.args.items() if value and name != "cursor"}
    more_url = url_for("console.orders", **chosen, cursor=page["next_cursor"]) if page["next_cursor"] else None
    rows = page["items"]
    return render_template(
        "orders.html", orders=rows, more_url=more_url, query=query, states=ORDER_STATUSES,
        names=queries.supervisee_names(db.session, principal, {o.supervisee_id for o in rows}),
        items=queries.item_names(db.session, {o.item_id for o in rows}),
        supervisees=queries.supervisee_choices(db.session, principal), back=request.full_path.rstrip("?"))


@bp.page("POST", "/mall/orders/<id:order_id>/fulfil", audit="mall.order_fulfil", audit_target=("order", "order_id"))
def fulfil_order(order_id: int):
    """Hand an order over; a scanned status code, when given, must be the order's person's."""
    g.back_url = _back()
    body = form_of(FulfilIn, {"status_code": request.form.get("status_code", "")}, lax=True)
    verified = None
    if body.status_code:
        settings = current_app.config["SETTINGS"]
        verified = status_token.read_token(settings.SECRET_KEY, current_app.extensions["correction.clock"],
                                           body.status_code, settings.STATUS_CODE_TTL_SECONDS)
    service.fulfil(db.session, current_principal(), order_id, now(), verified_supervisee=verified)
    return see_other(g.back_url)


@bp.page("POST", "/mall/orders/<id:order_id>/cancel", audit="mall.order_cancel", audit_target=("order", "order_id"))
def cancel_order(order_id: int):
    """Cancel a pending order: the points and the stock come back."""
    g.back_url = _back()
    body = form_of(CancelIn, {"note": request.form.get("note", "")}, lax=True)
    service.cancel(db.session, current_principal(), order_id, now(), body.note)
    return see_other(g.back_url)


def _back() -> str:
    """Where a form posted from the orders list goes back to: that list, with its filters."""
    target = request.form.get("back", "")
    return target if target.startswith("/mall/orders") and not target.startswith("//") else url_for("console.orders")


@bp.page("GET", "/mall/items")
def items():
    """The items of the caller's scope, with a form for a new one and the price, stock and offer of each."""
    query = query_of(PageQuery)
    principal = current_principal()
    page = paginate(db.session, service.items_for(principal), MallItem.id, query)
    more_url = url_for("console.items", cursor=page["next_cursor"]) if page["next_cursor"] else None
    return render_template("items.html", items=page["items"], more_url=more_url,
                           offices=queries.office_choices(db.session, principal))


@bp.page("POST", "/mall/items", audit="mall.item_create")
def create_item():
    """Offer a new item (a supervisor names the office that offers it)."""
    g.back_url = url_for("console.items")
    body = form_of(ItemIn, {name: request.form.get(name, "") for name in ITEM_FIELDS}, lax=True)
    item = service.create_item(db.session, current_principal(), body.model_dump(), now())
    g.audit.target_type, g.audit.target_id = "mall_item", item.id
    return see_other(url_for("console.items"))


@bp.page("POST", "/mall/items/<id:item_id>", audit="mall.item_update", audit_target=("mall_item", "item_id"))
def update_item(item_id: int):
    """Change an item's price, stock or whether it is offered."""
    g.back_url = url_for("console.items")
    body = form_of(ItemUpdate, {name: request.form.get(name, "") for name in EDITABLE}, lax=True)
    changes = body.model_dump(exclude_unset=True)
    g.audit.details = {"fields": sorted(changes)}
    service.update_item(db.session, current_principal(), item_id, changes, now())
    return see_other(url_for("console.items"))
