"""Signing in and out of the console: password and TOTP, first-login enrolment, the forced password change."""
from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from ..api import png_response
from ..auth import accounts, enrolment, service
from ..auth.schemas import OfficerLogin, PasswordChange, TotpEnrolment
from ..database import db
from ..people.access import caller_row, current_principal
from ..ratelimit import RateLimit
from ..time import now
from . import LANGUAGE_COOKIE, LOCALES
from .blueprint import bp
from .forms import form_of, safe_next
from .web import clear_session_cookie, see_other, set_session_cookie, signed_in

_FAVICON = Path(__file__).parent / "static" / "console" / "favicon.ico"
LOGIN_LIMIT = RateLimit("login", per_client="LOGIN_RATE_LIMIT")  # counted with the API's logins
_NOTICES = {
    "idle": lambda: _("Your session was locked after %(minutes)s idle minutes; log in again.",
                      minutes=current_app.config["SETTINGS"].OFFICER_IDLE_TIMEOUT_MINUTES),
    "login": lambda: _("Log in to go on."),
    "out": lambda: _("You have logged out."),
}


@bp.page("GET", "/", auth=False)
def login():
    """The login page (the site's front door); an officer already signed in goes on to the queue."""
    if signed_in():
        return see_other(url_for("console.alerts"))
    notice = _NOTICES.get(request.args.get("m", ""))
    return render_template("login.html", notice=notice() if notice else None, form={})


@bp.page("POST", "/", auth=False, audit="auth.officer_login", rate_limit=LOGIN_LIMIT, error_page="login.html")
def login_submit():
    """Check password and TOTP like the API's login; the session token goes in an HttpOnly cookie."""
    fields = {name: request.form.get(name, "") for name in ("username", "password", "totp")}
    if not fields["totp"]:
        fields.pop("totp")
    g.audit.actor_type, g.audit.actor_label = "officer", fields["username"][:60]
    body = form_of(OfficerLogin, fields)
    result = service.login_officer(db.session, current_app.config["SETTINGS"],
                                   current_app.extensions["correction.hasher"], username=body.username,
                                   password=body.password, totp=body.totp, client=request.remote_addr,
                                   now=now(), audit=g.audit)
    officer = result.holder
    if officer.password_change_required:
        target = url_for("console.password")
    elif officer.totp_enrolment_required:
        target = url_for("console.enrol")
    else:
        target = url_for("console.alerts")
    response = see_other(target)
    set_session_cookie(response, result.token)
    return response


@bp.page("POST", "/logout", audit="auth.logout")
def logout():
    """End this session."""
    service.logout(db.session, current_principal(), now())
    response = see_other(url_for("console.login", m="out"))
    clear_session_cookie(response)
    return response


@bp.page("GET", "/enrol", audit="auth.totp_enrolment_read")
def enrol():
    """The first-login TOTP enrolment: the secret as a QR code to scan, and a code to confirm it."""
    pending = enrolment.pending_enrolment(current_app.config["SETTINGS"], caller_row(db.session))
    return render_template("enrol.html", secret=pending["secret"], account=pending["account"],
                           issuer=pending["issuer"])


@bp.page("GET", "/enrol.png", audit="auth.totp_enrolment_read")
def enrol_png():
    """The pending secret's QR code."""
    pending = enrolment.pending_enrolment(current_app.config["SETTINGS"], caller_row(db.session))
    return png_response(enrolment.qr_png(pending["provisioning_uri"]))


@bp.page("POST", "/enrol", audit="auth.totp_enrolment", rate_limit=LOGIN_LIMIT)
def finish_enrol():
    """Confirm the enrolment with a current code."""
    body = form_of(TotpEnrolment, {"code": request.form.get("code", "")})
    enrolment.finish_enrolment(db.session, current_app.config["SETTINGS"], caller_row(db.session), body.code,
                               client=request.remote_addr, now=now())
    return see_other(url_for("console.alerts"))


@bp.page("GET", "/password")
def password():
    """The password change form (forced when someone else chose the password)."""
    return render_template("password.html", required=caller_row(db.session).password_change_required)


@bp.page("POST", "/password", audit="auth.password_change", rate_limit=LOGIN_LIMIT)
def change_password():
    """Change the password; the officer's other sessions end."""
    body = form_of(PasswordChange, {"current_password": request.form.get("current_password", ""),
                                    "new_password": request.form.get("new_password", "")})
    officer = caller_row(db.session)
    accounts.change_password(db.session, current_app.config["SETTINGS"], current_app.extensions["correction.hasher"],
                             current_principal(), officer, current=body.current_password,
                             new=body.new_password, client=request.remote_addr, now=now())
    target = url_for("console.enrol") if officer.totp_enrolment_required else url_for("console.alerts")
    return see_other(target)


@bp.route("/favicon.ico")
def favicon():
    """The site's icon (browsers ask for it at the root whatever the page says)."""
    response = Response(_FAVICON.read_bytes(), mimetype="image/vnd.microsoft.icon")
    response.cache_control.public, response.cache_control.max_age = True, 7 * 24 * 3600
    return response


@bp.page("GET", "/lang/<code>", auth=False)
def switch_language(code: str):
    """Switch the console's language (a cookie), then go back to the page the switch was on."""
    response = see_other(safe_next(request.args.get("next")))
    if code in LOCALES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, path="/", httponly=True,
                            samesite="Strict", secure=request.is_secure)
    return response
