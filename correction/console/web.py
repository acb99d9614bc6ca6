"""How a console page runs: the officer's session cookie, the unit of work, and errors as pages.

A page is declared like an API operation (``bp.page(...)``) and runs through the same unit of
work (``correction.api.run_unit_of_work``): one transaction, audited, rolled back on error with
the writes that must outlive it kept. What differs is the edge: the caller is the opaque token
the API issues, carried in an HttpOnly, SameSite=Strict cookie instead of a bearer header, and
errors answer as HTML pages (out of scope is the console's 404 page, a dead session the login
page) instead of the JSON error shape.
"""
from __future__ import annotations

import base64
from typing import Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from ..api import Operation, run_unit_of_work
from ..database import db
from ..errors import DomainError, NotFound, Unauthorized
from ..ratelimit import RateLimit
from ..time import now
from ..auth.service import resolve_token

SESSION_COOKIE = "console_session"
# While one of these is required, the session may only reach these pages (the API's guard, as pages).
_OPEN_WHILE_PASSWORD_CHANGE_REQUIRED = frozenset({"console.password", "console.change_password", "console.logout",
                                                   "console.enrol", "console.enrol_png", "console.finish_enrol"})
_OPEN_WHILE_TOTP_ENROLMENT_REQUIRED = _OPEN_WHILE_PASSWORD_CHANGE_REQUIRED


class SessionEnded(Unauthorized):
    """No session, or one that ended (logged out, idle, expired): the officer logs in again."""

    code = "session_ended"


class ConsoleBlueprint(Blueprint):
    """A blueprint of pages, each run as one audited unit of work like an API operation."""

    def page(self, method: str, rule: str, *, audit: str | None = None,
             audit_target: tuple[str, str] | None = None, auth: bool = True, touch: bool = True,
             bureau_wide: bool = False, rate_limit: RateLimit | tuple[RateLimit, ...] = (),
             error_page: str | None = None):
        """Register the decorated view as ``method rule``.

        ``auth``: the officer's session is resolved into ``g.principal`` first; ``touch=False``
        resolves it without counting as activity (a poll). ``bureau_wide``: supervisors and admins
        only; to an office's officer the page does not exist (404). ``error_page``: the template
        that shows a refusal of this page (a failed login shows the login form again).
        """
        rate_limits = (rate_limit,) if isinstance(rate_limit, RateLimit) else tuple(rate_limit)

        def decorator(view: Callable) -> Callable:
            def guarded(**kwargs):
                if auth:
                    detour = _authenticate(touch)
                    if detour is not None:
                        g.audit = None  # nothing was done but the detour
                        return detour
                    if bureau_wide and not g.principal.bureau_wide:
                        raise NotFound()
                return current_app.make_response(view(**kwargs))  # a page, not data to shape

            op = Operation(method=method.upper(), rule=rule, view=guarded, summary=view.__doc__ or "",
                           tags=[self.name], audit=audit, audit_target=audit_target, rate_limits=rate_limits)

            def handle(**path):
                g.error_page = error_page
                return run_unit_of_work(op, path)

            handle.__name__ = view.__name__
            self.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[op.method])
            return view

        return decorator


def _authenticate(touch: bool) -> Response | None:
    """Put the cookie's officer in ``g.principal``; a detour when a password or TOTP must come first."""
    g.console_poll = not touch
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or len(token) > 200:
        raise SessionEnded()
    try:
        principal, caller = resolve_token(db.session, current_app.config["SETTINGS"], token, now(), touch=touch)
    except Unauthorized as error:
        raise SessionEnded(code="session_ended", details={"reason": error.code}) from None
    if not principal.is_officer:
        raise SessionEnded()
    g.principal = principal
    if caller.password_change_required and request.endpoint not in _OPEN_WHILE_PASSWORD_CHANGE_REQUIRED:
        return see_other(url_for("console.password"))
    if caller.totp_enrolment_required and request.endpoint not in _OPEN_WHILE_TOTP_ENROLMENT_REQUIRED:
        return see_other(url_for("console.enrol"))
    return None


def signed_in() -> bool:
    """Whether this request carries a live officer session (looked at without counting as activity)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or len(token) > 200:
        return False
    try:
        principal, _row = resolve_token(db.session, current_app.config["SETTINGS"], token, now(), touch=False)
    except Unauthorized:
        return False
    return principal.is_officer


def see_other(location: str) -> Response:
    """Send the browser on to ``location``: a 303, or for an htmx request the page itself."""
    if request.headers.get("HX-Request") == "true":
        response = Response(status=204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)


def png_data_url(png: bytes) -> str:
    """A PNG to put in a page or an answer as it is (``img-src data:``), with no URL of its own to log."""
    return "data:image/png;base64," + base64.b64encode(png).decode()


def set_session_cookie(response: Response, token: str) -> None:
    """Hand the browser the session token: script cannot read it, other sites cannot send it.

    A browser-session cookie: the token's own expiry and idle lock are the server's to enforce.
    """
    response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="Strict",
                        secure=request.is_secure)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=request.is_secure)


def login_url(reason: str) -> str:
    return url_for("console.login") + "?" + urlencode({"m": reason})


def register_error_pages(bp: Blueprint) -> None:
    """Answer the console's errors as pages; the API's stay in the one JSON shape."""

    @bp.errorhandler(SessionEnded)
    def _session_ended(error: SessionEnded):
        reason = "idle" if error.details.get("reason") == "token_expired" else "login"
        response = see_other(login_url(reason))
        # A poll that finds the session ended sends the page to the login page but leaves the dead
        # cookie: a click racing that navigation still says why (idle) instead of "log in".
        if not g.get("console_poll"):
            clear_session_cookie(response)
        return response

    @bp.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return render_template("error.html", title=_("Form expired"),
                               message=_("The form was refused: it is missing its security token or it "
                                         "has expired. Go back, reload the page and try again.")), 400

    @bp.errorhandler(DomainError)
    def _domain(error: DomainError):
        if isinstance(error, NotFound):
            return not_found_page()
        status = error.status
        page = g.get("error_page") or "error.html"
        return render_template(page, error=error, title=_("Not done"), message=describe(error),
                               form=request.form), status, error.headers


def not_found_page():
    return render_template("error.html", title=_("Not found"),
                           message=_("There is no such page, or it is not yours to see.")), 404


def describe(error: DomainError) -> str:
    """Say in the reader's language why the request was refused."""
    messages = {
        "invalid_credentials": _("The username, password or code is not correct."),
        "account_locked": _("Too many failed attempts: this account is locked from here for %(minutes)s "
                            "minute(s).", minutes=max(1, round(error.details.get("retry_after_seconds", 60) / 60))),
        "rate_limited": _("Too many requests; wait a moment and try again."),
        "validation_error": _("Some fields are not valid."),
        "alert_already_acknowledged": _("This alert has already been acknowledged."),
        "alert_already_resolved": _("This alert has already been resolved."),
        "totp_already_enrolled": _("Your authenticator is already enrolled."),
        "totp_code_invalid": _("The code does not match; check the authenticator app's clock and try the next code."),
        "totp_secret_changed": _("Your authenticator secret was reset meanwhile; log in again."),
        "bureau_approval_required": _("Not yours to decide: leave of this length is decided by a bureau supervisor."),
        "leave_already_decided": _("This request has already been decided."),
        "leave_destination_purged": _("This request's destination was deleted with old location data; it cannot "
                                      "be approved."),
        "destination_area_required": _("Draw the destination area on the map to approve this request."),
        "display_pairing_invalid": _("This pairing link is not valid, was used already, or was revoked."),
        "service_unavailable": _("The service is busy; try again shortly."),
        "conflict": _("Someone changed this at the same time; reload and try again."),
        "invalid_geometry": _("The zone's shape cannot be used (its edges may cross, or it is too large); "
                              "draw it again."),
        "invalid_range": _("That range of time cannot be shown."),
        "order_already_fulfilled": _("This order has already been handed over."),
        "order_already_cancelled": _("This order has already been cancelled."),
        "wrong_person": _("The status code scanned is not this order's supervisee."),
        "code_expired": _("This status code has expired; ask for a fresh one."),
        "code_invalid": _("This is not a genuine status code."),
        "spot_check_pending": _("A spot check is already waiting for this person's answer."),
        "supervision_ended": _("Supervision has ended for this person."),
        "invalid_cursor": _("This page link is not valid; start again from the first page."),
    }
    text = messages.get(error.code, _("The request was refused (%(code)s).", code=error.code))
    fields = [_field_message(item) for item in error.details.get("fields", [])]
    return " ".join([text, *fields]) if fields and error.code == "validation_error" else text


def _field_message(item: dict) -> str:
    reasons = {
        "incorrect": _("The current password is not correct."),
        "too_short": _("The new password is too short."),
        "too_common": _("The new password is among the most common ones; choose another."),
        "contains_identifier": _("The new password must not contain your username."),
        "same_as_current": _("Choose a password other than the current one."),
        "whole_id_number": _("type only the last four characters of the ID number"),
        "too_long": _("longer than allowed"),
    }
    labels = {"username": _("Username"), "password": _("Password"), "totp": _("Code"), "code": _("Code"),
              "current_password": _("Current password"), "new_password": _("New password"),
              "outcome": _("Outcome"), "note": _("Note"), "kind": _("Kind"), "name": _("Name"),
              "geometry": _("Shape on the map"), "destination_geometry": _("Destination area"),
              "query.day": _("Day"), "label": _("Where the tablet hangs"),
              "description": _("Description"), "cost": _("Points"), "stock": _("Stock"),
              "monthly_limit": _("Monthly limit"), "active": _("Offered"), "office_id": _("Office"),
              "status_code": _("Status code"), "query.week": _("Week"), "query.since": _("From"),
              "query.until": _("Until"), "query.actor_id": _("Actor ID"), "query.target_id": _("Target ID"),
              "minutes": _("Minutes to answer"), "query.q": _("Search")}
    label = labels.get(item.get("path", ""), item.get("path", ""))
    reason = reasons.get(item.get("code")) or _("missing or not valid")
    return f"{label}: {reason}."
