"""Stations and their screens: the office's stations, the display credentials issued for them, issue, revoke.

Issuing shows the pairing secret once, as a link whose fragment carries it (a fragment never
leaves the browser, so no access log sees it) and as a QR code of that link for the tablet's camera.
"""
from __future__ import annotations

from flask import g, render_template, request, url_for
from pydantic import BaseModel, ConfigDict

from ..checkins import displays, qr
from ..database import db
from ..people.access import current_principal
from ..schemas import Text
from ..time import now
from .blueprint import bp
from .forms import form_of
from .web import png_data_url, see_other


class DisplayIn(BaseModel):
    """What an officer names a new display (where the tablet hangs)."""

    model_config = ConfigDict(extra="forbid")
    label: Text(100)


@bp.page("GET", "/stations", audit="station_display.list")
def stations():
    """The stations in scope, each with its displays (issued by, when, last used, revoked)."""
    found = displays.stations_in_scope(db.session, current_principal())
    by_station: dict[int, list] = {station.id: [] for station, _office in found}
    for display, issuer in displays.displays_of(db.session, list(by_station)):
        by_station[display.station_id].append((display, issuer))
    return render_template("stations.html", stations=found, displays=by_station)


@bp.page("POST", "/stations/<id:station_id>/displays", audit="station_display.issue",
         audit_target=("station", "station_id"))
def issue_display(station_id: int):
    """Issue a display for a station: the pairing link is shown on this answer only."""
    body = form_of(DisplayIn, {"label": request.form.get("label", "").strip()})
    display, secret = displays.issue(db.session, current_principal(), station_id, body.label, now())
    g.audit.details = {"display_id": display.id, "label": display.label}
    link = url_for("console.station_screen", _external=True) + "#" + secret
    return render_template("display_issued.html", display=display, link=link,
                           picture=png_data_url(qr.render_qr(link, "black")))


@bp.page("POST", "/stations/displays/<id:display_id>/revoke", audit="station_display.revoke",
         audit_target=("station_display", "display_id"))
def revoke_display(display_id: int):
    """Revoke a display: its screen says so at its next refresh."""
    displays.revoke(db.session, current_principal(), display_id, now())
    return see_other(url_for("console.stations"))
