"""Login, logout, who-am-I, and an officer's reset of a supervisee's phone."""
from __future__ import annotations

from flask import current_app, g

from ..api import ApiBlueprint
from ..database import db
from ..people.access import current_principal
from ..ratelimit import RateLimit
from ..people.models import Officer, Supervisee
from ..people.schemas import SuperviseeOut
from ..time import now
from . import service
from .schemas import MeOut, OfficerLogin, OfficerLoginOut, SuperviseeLogin, SuperviseeLoginOut

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
                                   totp=body.totp, now=now(), audit=g.audit)
    return {"token": result.token, "expires_at": result.expires_at, "officer": result.holder}


@bp.operation("POST", "/auth/supervisee/login", summary="Log a supervisee in from their phone",
              body=SuperviseeLogin, response=SuperviseeLoginOut, audit="auth.supervisee_login",
              errors=(401, 403, 423), rate_limit=LOGIN_LIMIT)
def supervisee_login(body: SuperviseeLogin):
    settings = current_app.config["SETTINGS"]
    g.audit.actor_type, g.audit.actor_label = "supervisee", body.phone[-4:]
    result = service.login_supervisee(db.session, settings, current_app.extensions["correction.hasher"],
                                      phone=body.phone, password=body.password,
                                      device_id=body.device_id, now=now(), audit=g.audit)
    return {"token": result.token, "expires_at": result.expires_at, "supervisee": result.holder}


@bp.operation("POST", "/auth/logout", summary="Revoke the token of this request (and, on a phone, its ingest key)", status=204,
              auth="any", audit="auth.logout")
def logout():
    service.logout(db.session, current_principal(), now())


@bp.operation("GET", "/me", summary="Who the token belongs to", response=MeOut, auth="any")
def me():
    principal = current_principal()
    if principal.is_officer:
        return {"kind": "officer", "officer": db.session.get(Officer, principal.id)}
    return {"kind": "supervisee", "supervisee": db.session.get(Supervisee, principal.id)}


@bp.operation("POST", "/supervisees/<id:supervisee_id>/device/reset",
              summary="Unbind the supervisee's phone so the next login binds a new one",
              response=SuperviseeOut, auth="officer", audit="supervisee.device_reset",
              audit_target=("supervisee", "supervisee_id"))
def reset_device(supervisee_id: int):
    return service.reset_device(db.session, current_principal(), supervisee_id, now())
