"""Login, logout, who-am-I, password change; an officer's reset of a supervisee's phone and login locks."""
from __future__ import annotations

from flask import current_app, g, request

from ..api import ApiBlueprint, png_response
from ..database import db
from ..people.access import caller_row, current_principal
from ..ratelimit import RateLimit
from ..people.schemas import SuperviseeOut
from ..time import now
from . import accounts, enrolment, service
from .schemas import (InitialPasswordOut, LocksLiftedOut, LoginLocksOut, MeOut, OfficerLogin, OfficerLoginOut,
                      PasswordChange, SuperviseeLogin, SuperviseeLoginOut, TotpEnrolment, TotpEnrolmentOut)

bp = ApiBlueprint("auth", __name__)
LOGIN_LIMIT = RateLimit("login", per_client="LOGIN_RATE_LIMIT")  # per account: the lockout


@bp.operation("POST", "/auth/officer/login", summary="Log an officer in (password and TOTP)",
              body=OfficerLogin, response=OfficerLoginOut, audit="auth.officer_login",
              errors=(401, 423), rate_limit=LOGIN_LIMIT)
def officer_login(body: OfficerLogin):
    settings = current_app.config["SETTINGS"]
    g.audit.actor_type, g.audit.actor_label = "officer", body.username
    result = service.login_officer(db.session, settings, current_app.extensions["correction.hasher"],
                                   username=body.username, password=body.password,
                                   totp=body.totp, client=request.remote_addr, now=now(),
                                   audit=g.audit)
    return {"token": result.token, "expires_at": result.expires_at, "officer": result.holder}


@bp.operation("POST", "/auth/supervisee/login", summary="Log a supervisee in from their phone",
              body=SuperviseeLogin, response=SuperviseeLoginOut, audit="auth.supervisee_login",
              errors=(401, 403, 423), rate_limit=LOGIN_LIMIT)
def supervisee_login(body: SuperviseeLogin):
    settings = current_app.config["SETTINGS"]
    g.audit.actor_type, g.audit.actor_label = "supervisee", body.phone[-4:]
    result = service.login_supervisee(db.session, settings, current_app.extensions["correction.hasher"],
                                      phone=body.phone, password=body.password,
                                      device_id=body.device_id, client=request.remote_addr, now=now(),
                                      audit=g.audit)
    return {"token": result.token, "expires_at": result.expires_at, "supervisee": result.holder}


@bp.operation("POST", "/auth/logout", summary="Revoke the token of this request (and, on a phone, its ingest key)", status=204,
              auth="any", audit="auth.logout")
def logout():
    service.logout(db.session, current_principal(), now())


@bp.operation("GET", "/me", summary="Who the token belongs to", response=MeOut, auth="any")
def me():
    kind = current_principal().kind  # "officer" or "supervisee": the answer's key for the row too
    return {"kind": kind, kind: caller_row(db.session)}


@bp.operation("POST", "/supervisees/<id:supervisee_id>/device/reset",
              summary="Unbind the supervisee's phone so the next login binds a new one",
              response=SuperviseeOut, auth="officer", audit="supervisee.device_reset",
              audit_target=("supervisee", "supervisee_id"))
def reset_device(supervisee_id: int):
    return service.reset_device(db.session, current_principal(), supervisee_id, now())


@bp.operation("POST", "/auth/password", summary="Change your password; your other sessions end",
              body=PasswordChange, status=204, auth="any", audit="auth.password_change",
              errors=(422, 423), rate_limit=LOGIN_LIMIT)  # guessing a current password is a login
def change_password(body: PasswordChange):
    settings = current_app.config["SETTINGS"]
    accounts.change_password(db.session, settings, current_app.extensions["correction.hasher"],
                             current_principal(), caller_row(db.session), current=body.current_password,
                             new=body.new_password, client=request.remote_addr, now=now())


@bp.operation("GET", "/auth/totp/enrolment", summary="Your pending TOTP secret (only until it is enrolled)",
              response=TotpEnrolmentOut, auth="officer", audit="auth.totp_enrolment_read", errors=(409,))
def totp_enrolment():
    return enrolment.pending_enrolment(current_app.config["SETTINGS"], caller_row(db.session))


@bp.operation("GET", "/auth/totp/enrolment.png", summary="Your pending TOTP secret as a QR code to scan",
              auth="officer", audit="auth.totp_enrolment_read", media_type="image/png", errors=(409,))
def totp_enrolment_png():
    pending = enrolment.pending_enrolment(current_app.config["SETTINGS"], caller_row(db.session))
    return png_response(enrolment.qr_png(pending["provisioning_uri"]))


@bp.operation("POST", "/auth/totp/enrolment", summary="Finish your TOTP enrolment with a current code",
              body=TotpEnrolment, status=204, auth="officer", audit="auth.totp_enrolment",
              errors=(409, 422, 423), rate_limit=LOGIN_LIMIT)  # guessing a code is a login
def finish_totp_enrolment(body: TotpEnrolment):
    enrolment.finish_enrolment(db.session, current_app.config["SETTINGS"], caller_row(db.session), body.code,
                               client=request.remote_addr, now=now())


@bp.operation("POST", "/supervisees/<id:supervisee_id>/initial-password",
              summary="Issue a supervisee a new random password (shown once; the first login must change it)",
              response=InitialPasswordOut, auth="officer", audit="supervisee.initial_password",
              audit_target=("supervisee", "supervisee_id"))
def issue_initial_password(supervisee_id: int):
    person, password, ended = accounts.issue_initial_password(
        db.session, current_app.config["SETTINGS"], current_app.extensions["correction.hasher"],
        current_principal(), supervisee_id, now())
    g.audit.details = {"sessions_ended": ended}  # never the password
    return {"supervisee_id": person.id, "initial_password": password,
            "password_change_required": person.password_change_required, "sessions_ended": ended}


@bp.operation("GET", "/supervisees/<id:supervisee_id>/login-locks",
              summary="List the clients locked out of (or failing at) a supervisee's login",
              response=LoginLocksOut, auth="officer", audit="supervisee.login_locks_read",
              audit_target=("supervisee", "supervisee_id"))
def supervisee_login_locks(supervisee_id: int):
    found = accounts.supervisee_login_locks(db.session, current_app.config["SETTINGS"], current_principal(),
                                            supervisee_id)
    return _locks(found)


@bp.operation("DELETE", "/supervisees/<id:supervisee_id>/login-locks",
              summary="Lift every lock on a supervisee's login", response=LocksLiftedOut, auth="officer",
              audit="supervisee.login_locks_lift", audit_target=("supervisee", "supervisee_id"))
def lift_supervisee_login_locks(supervisee_id: int):
    lifted = accounts.lift_supervisee_login_locks(db.session, current_app.config["SETTINGS"],
                                                  current_principal(), supervisee_id)
    g.audit.details = {"lifted": lifted}
    return {"lifted": lifted}


@bp.operation("GET", "/officers/<id:officer_id>/login-locks",
              summary="List the clients locked out of (or failing at) an officer's login",
              response=LoginLocksOut, auth="supervisor", audit="officer.login_locks_read",
              audit_target=("officer", "officer_id"))
def officer_login_locks(officer_id: int):
    found = accounts.officer_login_locks(db.session, current_app.config["SETTINGS"], current_principal(),
                                         officer_id)
    return _locks(found)


@bp.operation("DELETE", "/officers/<id:officer_id>/login-locks",
              summary="Lift every lock on an officer's login", response=LocksLiftedOut, auth="supervisor",
              audit="officer.login_locks_lift", audit_target=("officer", "officer_id"))
def lift_officer_login_locks(officer_id: int):
    lifted = accounts.lift_officer_login_locks(db.session, current_app.config["SETTINGS"],
                                               current_principal(), officer_id)
    g.audit.details = {"lifted": lifted}
    return {"lifted": lifted}


def _locks(found) -> dict:
    at = now()
    return {"items": [{"client": f.client, "failures": f.failures, "locked_until": f.locked_until,
                       "locked": f.locked_until is not None and f.locked_until > at,
                       "last_failure_at": f.last_failure_at} for f in found]}
