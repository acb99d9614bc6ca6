"""Authenticating a request and checking the caller's kind and role."""
from __future__ import annotations

from flask import current_app, g, request

from ..database import db
from ..errors import Forbidden, Unauthorized
from ..time import now
from .service import resolve_token

# What each ``auth=`` value of an operation admits.
_ADMITS = {
    "any": lambda p: True,
    "officer": lambda p: p.kind == "officer",
    "supervisor": lambda p: p.kind == "officer" and p.role in ("supervisor", "admin"),
    "supervisee": lambda p: p.kind == "supervisee",
}
# While the password someone else chose is in use, the account may only replace it, or leave.
_OPEN_WHILE_PASSWORD_CHANGE_REQUIRED = frozenset({"auth.change_password", "auth.logout"})


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
    principal, g.caller_row = resolve_token(db.session, current_app.config["SETTINGS"], token, now())
    g.principal = principal
    if g.caller_row.password_change_required and request.endpoint not in _OPEN_WHILE_PASSWORD_CHANGE_REQUIRED:
        raise Forbidden("Change the password you were given before going on (POST /auth/password).",
                        code="password_change_required")
    if not _ADMITS[requirement](principal):
        raise Forbidden()
