"""Authenticating a request and checking the caller's kind and role."""
from __future__ import annotations

from flask import current_app, g, request

from ..database import db
from ..errors import Forbidden, NotFound, Unauthorized
from ..time import now
from .service import resolve_token

# What each ``auth=`` value of an operation admits.
_ADMITS = {
    "any": lambda p: True,
    "officer": lambda p: p.kind == "officer",
    "supervisor": lambda p: p.kind == "officer" and p.role in ("supervisor", "admin"),
    "admin": lambda p: p.kind == "officer" and p.role == "admin",
    "supervisee": lambda p: p.kind == "supervisee",
}
# Refused as if the endpoint's objects did not exist: others learn nothing of the bureau's administration.
_HIDDEN_FROM_OTHERS = frozenset({"admin"})
_ENROLMENT = frozenset({"auth.totp_enrolment", "auth.totp_enrolment_png", "auth.finish_totp_enrolment"})
# While the password someone else chose is in use, the account may only replace it, enrol its TOTP, or leave.
_OPEN_WHILE_PASSWORD_CHANGE_REQUIRED = frozenset({"auth.change_password", "auth.logout"}) | _ENROLMENT
# While an officer's TOTP is not enrolled, the session may only enrol it, change the password, or leave.
_OPEN_WHILE_TOTP_ENROLMENT_REQUIRED = frozenset({"auth.change_password", "auth.logout"}) | _ENROLMENT


def bearer_token() -> str | None:
    """Return the bearer token of this request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        return None
    return token.strip()


def authenticate(requirement: str) -> None:
    """Resolve the caller into ``g.principal``; 401 without a valid token, 403 if not admitted."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("Send a bearer token in the Authorization header.",
                           headers={"WWW-Authenticate": "Bearer"})
    principal, caller = resolve_token(db.session, current_app.config["SETTINGS"], token, now())
    g.principal = principal
    if caller.password_change_required and request.endpoint not in _OPEN_WHILE_PASSWORD_CHANGE_REQUIRED:
        raise Forbidden("Change the password you were given before going on (POST /auth/password).",
                        code="password_change_required")
    if caller.totp_enrolment_required \
            and request.endpoint not in _OPEN_WHILE_TOTP_ENROLMENT_REQUIRED:
        raise Forbidden("Enrol your TOTP before going on (GET, then POST /auth/totp/enrolment).",
                        code="totp_enrolment_required")
    if not _ADMITS[requirement](principal):
        if requirement in _HIDDEN_FROM_OTHERS:
            raise NotFound()
        raise Forbidden()
