"""The station screen (报到点展示屏): a wall tablet's full-screen page of the station's rotating QR code.

It is not an officer's page: it runs on a display credential (``checkins.displays``), in a cookie
only these paths receive, which reaches this station's codes and nothing else. The page's script
reads the pairing secret from the link's fragment, trades it for that cookie, then asks for the
codes: this step's and the next one's, which it shows the moment its step begins.
"""
from __future__ import annotations

from flask import current_app, g, jsonify, render_template, request, url_for
from pydantic import BaseModel, ConfigDict, Field

from ..checkins import displays, qr
from ..database import db
from ..ratelimit import RateLimit
from ..time import iso_z, now
from .blueprint import bp
from .forms import form_of
from .web import png_data_url

DISPLAY_COOKIE = "station_display"
SCREEN_PATH = "/station-screen"
# Counted per display (a digest of its secret) and per address, with the officers' station codes' limits.
SCREEN_LIMIT = RateLimit("station_screen", per_caller="STATION_QR_RATE_LIMIT", per_client="STATION_QR_CLIENT_RATE_LIMIT",
                         caller=lambda: request.cookies.get(DISPLAY_COOKIE))
COOKIE_MAX_AGE = 400 * 86400  # the longest browsers keep a cookie; revocation, not expiry, ends a display


class PairingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=displays.SECRET_MAX_LENGTH)


@bp.page("GET", SCREEN_PATH, auth=False)
def station_screen():
    """The screen itself: an empty frame its script fills (and may be framed by signage origins)."""
    return render_template("screen.html", code_url=url_for("console.screen_codes"),
                           pair_url=url_for("console.pair_screen"),
                           zone=current_app.config["SETTINGS"].LOCAL_TIMEZONE)


@bp.page("POST", SCREEN_PATH + "/pair", auth=False, audit="station_display.pair", rate_limit=SCREEN_LIMIT)
def pair_screen():
    """Trade the link's pairing secret for this screen's own, in an HttpOnly cookie; 204.

    A refusal (a used, revoked or unknown link) is audited and answered as the console's error page.
    """
    payload = request.get_json(silent=True)
    body = form_of(PairingIn, payload if isinstance(payload, dict) else {})
    display, bureau_id, secret = displays.pair(db.session, body.token, now())
    g.audit.target_type, g.audit.target_id = "station_display", display.id
    g.audit.actor_type, g.audit.actor_id, g.audit.bureau_id = "station_display", display.id, bureau_id
    response = current_app.response_class(status=204)
    framed = current_app.config["SETTINGS"].STATION_SCREEN_FRAME_ANCESTORS.split() != ["'none'"]
    # In a signage system's frame the screen is a third party: only a partitioned SameSite=None cookie is sent.
    response.set_cookie(DISPLAY_COOKIE, secret, max_age=COOKIE_MAX_AGE, path=SCREEN_PATH, httponly=True,
                        secure=request.is_secure or framed, samesite="None" if framed else "Strict",
                        partitioned=framed)
    return response


@bp.page("GET", SCREEN_PATH + "/codes", auth=False, rate_limit=SCREEN_LIMIT)
def screen_codes():
    """This step's code and the next one's for the paired screen, or why it shows none (401/403)."""
    settings = current_app.config["SETTINGS"]
    at = now()
    try:
        station, codes = displays.screen(db.session, settings, request.cookies.get(DISPLAY_COOKIE, ""), at)
    except displays.DisplayRefused as refused:
        return jsonify(state=refused.code), refused.status
    return jsonify(station=station.name, now=iso_z(at), step_seconds=settings.QR_STEP_SECONDS, codes=[
        {"png": png_data_url(qr.render_qr(code.token, "black")),
         "starts_at": iso_z(code.starts_at), "expires_at": iso_z(code.expires_at)} for code in codes])
