"""The personal status code (矫正码): the supervisee shows it, an officer reads it."""
from __future__ import annotations

from flask import current_app, g

from ..api import ApiBlueprint, png_response
from ..checkins.qr import render_qr
from ..database import db
from ..errors import NotFound
from ..people import status_token
from ..people.access import current_principal
from ..people.service import get_supervisee
from ..ratelimit import RateLimit
from ..time import now
from .schemas import CodeVerifyIn, CodeVerifyOut
from .status_code import compliance_colour

bp = ApiBlueprint("monitoring", __name__)
CODE_LIMIT = RateLimit("status_code", per_caller="STATUS_CODE_RATE_LIMIT", per_client="STATUS_CODE_CLIENT_RATE_LIMIT")
VERIFY_LIMIT = RateLimit("code_verify", per_caller="CODE_VERIFY_RATE_LIMIT",
                         per_client="CODE_VERIFY_CLIENT_RATE_LIMIT")


def _settings():
    return current_app.config["SETTINGS"]


@bp.operation("GET", "/me/code.png", summary="Your personal status code (矫正码), valid 5 minutes",
              auth="supervisee", media_type="image/png", rate_limit=CODE_LIMIT)
def my_code():
    settings, person_id = _settings(), current_principal().id
    colour = compliance_colour(db.session, settings, person_id, now())
    token = status_token.issue_token(settings.SECRET_KEY, current_app.extensions["correction.clock"], person_id)
    response = png_response(render_qr(token, colour))
    response.headers["X-Status-Colour"] = colour
    return response


@bp.operation("POST", "/codes/verify", summary="Read a supervisee's status code (officers)",
              body=CodeVerifyIn, response=CodeVerifyOut, auth="officer", audit="status_code.verify",
              errors=(422,), rate_limit=VERIFY_LIMIT)
def verify_code(body: CodeVerifyIn):
    settings = _settings()
    person_id = status_token.read_token(settings.SECRET_KEY, current_app.extensions["correction.clock"],
                                        body.token, settings.STATUS_CODE_TTL_SECONDS)
    try:
        person = get_supervisee(db.session, current_principal(), person_id)
    except NotFound:
        raise NotFound("This person is not supervised by your office.", code="supervisee_not_found") from None
    g.audit.target_type, g.audit.target_id = "supervisee", person.id
    return {"supervisee_id": person.id, "name": person.name, "national_id_masked": person.national_id_masked,
            "office_id": person.office_id, "level": person.level, "supervision_status": person.status,
            "colour": compliance_colour(db.session, settings, person.id, now())}
