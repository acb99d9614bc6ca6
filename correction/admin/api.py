"""Admins' endpoints for their bureau: offices, stations, officers. Other bureaus' objects are 404.

Every write is audited with the changed fields before and after.
"""
from __future__ import annotations

from flask import current_app, g

from ..api import ApiBlueprint
from ..database import db
from ..people.access import current_principal
from ..people.models import Office, Officer, Station
from ..schemas import Page, paginate
from ..time import now
from . import offices, officers, robots, stations
from .changes import Change
from .schemas import (AdminOfficerOut, OfficeCreate, OfficeOut, OfficeQuery, OfficeRename, OfficerCreate,
                      OfficerQuery, OfficerUpdate, PasswordReset, StationCreate, StationOut, StationQuery,
                      RobotIn, RobotOut, StationUpdate)

bp = ApiBlueprint("admin", __name__)
OFFICE = ("office", "office_id")
STATION = ("station", "station_id")
OFFICER = ("officer", "officer_id")


def _audited(change: Change, target_type: str | None = None):
    """Put the change in this request's audit entry; return the written row."""
    if target_type is not None:
        g.audit.target_type, g.audit.target_id = target_type, change.row.id
    g.audit.details = change.details
    return change.row


def _settings():
    return current_app.config["SETTINGS"]


# --- offices -----------------------------------------------------------------------------------------

@bp.operation("GET", "/admin/offices", summary="List your bureau's offices, closed ones flagged",
              query=OfficeQuery, response=Page[OfficeOut], auth="admin")
def list_offices(query: OfficeQuery):
    return paginate(db.session, offices.search_offices(current_principal(), query.closed), Office.id, query)


@bp.operation("POST", "/admin/offices", summary="Create an office", body=OfficeCreate, response=OfficeOut,
              status=201, auth="admin", audit="office.create", errors=(409,))
def create_office(body: OfficeCreate):
    change = offices.create_office(db.session, current_principal(), code=body.code, name=body.name)
    return _audited(change, "office")


@bp.operation("PATCH", "/admin/offices/<id:office_id>", summary="Rename an office", body=OfficeRename,
              response=OfficeOut, auth="admin", audit="office.rename", audit_target=OFFICE)
def rename_office(office_id: int, body: OfficeRename):
    return _audited(offices.rename_office(db.session, current_principal(), office_id, body.name))


@bp.operation("POST", "/admin/offices/<id:office_id>/close",
              summary="Close an office with no active supervisees (its stations retire)",
              response=OfficeOut, auth="admin", audit="office.close", audit_target=OFFICE, errors=(409,))
def close_office(office_id: int):
    return _audited(offices.close_office(db.session, current_principal(), office_id, now()))


# --- stations ----------------------------------------------------------------------------------------

@bp.operation("GET", "/admin/stations", summary="List your bureau's stations", query=StationQuery,
              response=Page[StationOut], auth="admin")
def list_stations(query: StationQuery):
    filters = query.model_dump(exclude={"limit", "cursor"})
    return paginate(db.session, stations.search_stations(current_principal(), filters), Station.id, query)


@bp.operation("POST", "/admin/stations", summary="Create a station of an office", body=StationCreate,
              response=StationOut, status=201, auth="admin", audit="station.create", errors=(409,))
def create_station(body: StationCreate):
    return _audited(stations.create_station(db.session, current_principal(), body.model_dump()), "station")


@bp.operation("PATCH", "/admin/stations/<id:station_id>", summary="Move, rename or resize a station",
              body=StationUpdate, response=StationOut, auth="admin", audit="station.update",
              audit_target=STATION)
def update_station(station_id: int, body: StationUpdate):
    changes = body.model_dump(exclude_unset=True)
    return _audited(stations.update_station(db.session, current_principal(), station_id, changes))


@bp.operation("POST", "/admin/stations/<id:station_id>/rotate-secret",
              summary="Give a station a new signing secret: codes of the old one are refused",
              response=StationOut, auth="admin", audit="station.rotate_secret", audit_target=STATION,
              errors=(409,))
def rotate_station_secret(station_id: int):
    return _audited(stations.rotate_secret(db.session, current_principal(), station_id, now()))


@bp.operation("POST", "/admin/stations/<id:station_id>/retire",
              summary="Retire a station: its codes are refused", response=StationOut, auth="admin",
              audit="station.retire", audit_target=STATION)
def retire_station(station_id: int):
    return _audited(stations.retire_station(db.session, current_principal(), station_id))


# --- officers ----------------------------------------------------------------------------------------

@bp.operation("GET", "/admin/officers", summary="List your bureau's officers", query=OfficerQuery,
              response=Page[AdminOfficerOut], auth="admin")
def list_officers(query: OfficerQuery):
    filters = query.model_dump(exclude={"limit", "cursor"})
    return paginate(db.session, officers.search_officers(current_principal(), filters), Officer.id, query)


@bp.operation("POST", "/admin/officers",
              summary="Create an officer (they change the password and enrol a TOTP at first login)",
              body=OfficerCreate, response=AdminOfficerOut, status=201, auth="admin", audit="officer.create",
              errors=(409,))
def create_officer(body: OfficerCreate):
    change = officers.create_officer(db.session, _settings(), current_app.extensions["correction.hasher"],
                                     current_principal(), body.model_dump(), now())
    return _audited(change, "officer")


@bp.operation("PATCH", "/admin/officers/<id:officer_id>", summary="Change an officer's name, role or office",
              body=OfficerUpdate, response=AdminOfficerOut, auth="admin", audit="officer.update",
              audit_target=OFFICER, errors=(409,))
def update_officer(officer_id: int, body: OfficerUpdate):
    changes = body.model_dump(exclude_unset=True)
    return _audited(officers.update_officer(db.session, current_principal(), officer_id, changes))


@bp.operation("POST", "/admin/officers/<id:officer_id>/deactivate",
              summary="Deactivate an officer; their sessions end at once", response=AdminOfficerOut,
              auth="admin", audit="officer.deactivate", audit_target=OFFICER, errors=(409,))
def deactivate_officer(officer_id: int):
    return _audited(officers.deactivate_officer(db.session, current_principal(), officer_id, now()))


@bp.operation("POST", "/admin/officers/<id:officer_id>/reactivate", summary="Let an officer log in again",
              response=AdminOfficerOut, auth="admin", audit="officer.reactivate", audit_target=OFFICER,
              errors=(409,))
def reactivate_officer(officer_id: int):
    return _audited(officers.reactivate_officer(db.session, current_principal(), officer_id))


@bp.operation("POST", "/admin/officers/<id:officer_id>/password-reset",
              summary="Set a temporary password, to be changed at the next login; their sessions end",
              body=PasswordReset, response=AdminOfficerOut, auth="admin", audit="officer.password_reset",
              audit_target=OFFICER)
def reset_officer_password(officer_id: int, body: PasswordReset):
    change = officers.reset_password(db.session, _settings(), current_app.extensions["correction.hasher"],
                                     current_principal(), officer_id, body.temporary_password, now())
    return _audited(change)


@bp.operation("POST", "/admin/officers/<id:officer_id>/totp-reset",
              summary="Make an officer enrol a new TOTP at their next login; their sessions end",
              response=AdminOfficerOut, auth="admin", audit="officer.totp_reset", audit_target=OFFICER)
def reset_officer_totp(officer_id: int):
    return _audited(officers.reset_totp(db.session, current_principal(), officer_id, now()))


# --- officers' group robots (DingTalk / WeCom) ----------------------------------------------------------

def _set_robot(office_id: int | None, body: RobotIn):
    secret = body.secret if "secret" in body.model_fields_set else robots.KEEP
    robot, g.audit.details = robots.set_robot(db.session, current_principal(), office_id, provider=body.provider,
                                              webhook_url=body.webhook_url, secret=secret, now=now())
    return robots.describe(robot)


def _remove_robot(office_id: int | None):
    g.audit.details = robots.remove_robot(db.session, current_principal(), office_id)


@bp.operation("GET", "/admin/offices/<id:office_id>/robot", summary="The office's group robot (never its secrets)",
              response=RobotOut, auth="admin")
def get_office_robot(office_id: int):
    return robots.describe(robots.get_robot(db.session, current_principal(), office_id))


@bp.operation("PUT", "/admin/offices/<id:office_id>/robot",
              summary="Set the office's DingTalk or WeCom group robot (webhook and secret are write-only)",
              body=RobotIn, response=RobotOut, auth="admin", audit="robot.set", audit_target=OFFICE)
def set_office_robot(office_id: int, body: RobotIn):
    return _set_robot(office_id, body)


@bp.operation("DELETE", "/admin/offices/<id:office_id>/robot", summary="Remove the office's group robot",
              status=204, auth="admin", audit="robot.remove", audit_target=OFFICE)
def remove_office_robot(office_id: int):
    _remove_robot(office_id)


@bp.operation("GET", "/admin/robot", summary="The bureau's group robot (never its secrets)", response=RobotOut,
              auth="admin")
def get_bureau_robot():
    return robots.describe(robots.get_robot(db.session, current_principal(), None))


@bp.operation("PUT", "/admin/robot",
              summary="Set the bureau's DingTalk or WeCom group robot (escalations, job failures)",
              body=RobotIn, response=RobotOut, auth="admin", audit="robot.set")
def set_bureau_robot(body: RobotIn):
    return _set_robot(None, body)


@bp.operation("DELETE", "/admin/robot", summary="Remove the bureau's group robot", status=204, auth="admin",
              audit="robot.remove")
def remove_bureau_robot():
    _remove_robot(None)
