"""POST|DELETE /me/push-token: the phone tells us (or forgets) where its pushes go."""
from __future__ import annotations

from typing import Annotated

from flask import g
from pydantic import StringConstraints

from ..api import ApiBlueprint
from ..database import db
from ..people.access import current_principal
from ..schemas import Input
from . import push_tokens

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
