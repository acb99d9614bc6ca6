"""Check-in endpoints: schedule, check-ins, station codes, spot checks."""
from __future__ import annotations

from flask import current_app, g

from ..api import Answer, ApiBlueprint, png_response
from ..people.access import current_principal
from ..database import db
from ..people.models import Supervisee
from ..ratelimit import RateLimit
from ..time import now
from . import qr, service
from .schemas import CheckinIn, CheckinOut, ScheduleOut, SpotCheckIn, SpotCheckOut, StationQrOut
from .schedule import schedule_for

bp = ApiBlueprint("checkins", __name__)
CHECKIN_LIMIT = RateLimit("checkin", per_caller="CHECKIN_RATE_LIMIT", per_client="CHECKIN_CLIENT_RATE_LIMIT")
QR_LIMIT = RateLimit("station_qr", per_caller="STATION_QR_RATE_LIMIT", per_client="STATION_QR_CLIENT_RATE_LIMIT")


def _settings():
    return current_app.config["SETTINGS"]


@bp.operation("GET", "/me/schedule", summary="Your check-in windows and pending spot checks",
              response=ScheduleOut, auth="supervisee")
def my_schedule():
    person = db.session.get(Supervisee, current_principal().id)
    return schedule_for(db.session, _settings(), person, now())


@bp.operation("POST", "/me/checkins", summary="Check in: remotely, at a station, or for a spot check",
              body=CheckinIn, response=CheckinOut, status=201, also=(200,), auth="supervisee",
              errors=(403, 409), rate_limit=CHECKIN_LIMIT)
def create_checkin(body: CheckinIn):
    fix = service.Fix(lat=body.lat, lon=body.lon, accuracy_m=body.accuracy_m,
                      recorded_at=body.recorded_at, is_mock=body.is_mock)
    result = service.check_in(db.session, _settings(), current_principal(), kind=body.kind, fix=fix,
                              qr_text=body.qr, now=now())
    out = CheckinOut.model_validate(result.checkin).model_copy(update={"duplicate": not result.created})
    return Answer(out, 201 if result.created else 200)


@bp.operation("GET", "/stations/<id:station_id>/qr", summary="The station's current check-in code",
              response=StationQrOut, auth="officer", rate_limit=QR_LIMIT)
def station_qr(station_id: int):
    station = service.station_for_officer(db.session, current_principal(), station_id)
    token, expires_at = qr.station_token(station.qr_secret, station.id, now(), _settings().QR_STEP_SECONDS)
    return {"token": token, "expires_at": expires_at, "station_id": station.id}


@bp.operation("GET", "/stations/<id:station_id>/qr.png", summary="The station's current code as a PNG",
              auth="officer", media_type="image/png", rate_limit=QR_LIMIT)
def station_qrpng_response(station_id: int):
    station = service.station_for_officer(db.session, current_principal(), station_id)
    token, expires_at = qr.station_token(station.qr_secret, station.id, now(), _settings().QR_STEP_SECONDS)
    return png_response(qr.render_qr(token, "black"), expires_at)


@bp.operation("POST", "/spot-checks", summary="Ask a supervisee to check in now (点验)",
              body=SpotCheckIn, response=SpotCheckOut, status=201, auth="officer",
              audit="spot_check.create", errors=(409,))
def create_spot_check(body: SpotCheckIn):
    g.audit.target_type, g.audit.target_id = "supervisee", body.supervisee_id
    return service.request_spot_check(db.session, _settings(), current_principal(),
                                      supervisee_id=body.supervisee_id, minutes=body.minutes,
                                      note=body.note, now=now())
