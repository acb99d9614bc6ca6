"""Officers' endpoints for supervisees: enrol, list, read, change."""
from __future__ import annotations

from flask import current_app, g

from ..api import ApiBlueprint, audit_filters
from .access import current_principal
from ..database import db
from ..schemas import Page, paginate
from ..time import now
from . import service
from .models import Supervisee
from .schemas import (NationalIdLookup, SuperviseeCreate, SuperviseeOut, SuperviseeQuery,
                      SuperviseeUpdate)

bp = ApiBlueprint("people", __name__)
TARGET = ("supervisee", "supervisee_id")


@bp.operation("GET", "/supervisees", summary="List the supervisees in your scope",
              query=SuperviseeQuery, response=Page[SuperviseeOut], auth="officer",
              audit="supervisee.list")
def list_supervisees(query: SuperviseeQuery):
    filters = query.model_dump(exclude={"limit", "cursor"})
    audit_filters(query)
    stmt = service.search_supervisees(current_principal(), filters)
    return paginate(db.session, stmt, Supervisee.id, query)


@bp.operation("POST", "/supervisees", summary="Enrol a supervisee", body=SuperviseeCreate,
              response=SuperviseeOut, status=201, auth="officer", audit="supervisee.create",
              errors=(409,))
def create_supervisee(body: SuperviseeCreate):
    person = service.enrol_supervisee(db.session, current_app.config["SETTINGS"],
                                      current_app.extensions["correction.hasher"],
                                      current_principal(), body.model_dump(), now())
    g.audit.target_type, g.audit.target_id = TARGET[0], person.id
    return person


@bp.operation("POST", "/supervisees/lookup", summary="Find a supervisee by national ID number",
              body=NationalIdLookup, response=SuperviseeOut, auth="officer",
              audit="supervisee.lookup")
def lookup_supervisee(body: NationalIdLookup):
    person = service.find_by_national_id(db.session, current_app.config["SETTINGS"],
                                         current_principal(), body.national_id)
    g.audit.target_type, g.audit.target_id = TARGET[0], person.id
    return person


@bp.operation("GET", "/supervisees/<id:supervisee_id>", summary="Read a supervisee",
              response=SuperviseeOut, auth="officer", audit="supervisee.read", audit_target=TARGET)
def get_supervisee(supervisee_id: int):
    return service.get_supervisee(db.session, current_principal(), supervisee_id)


@bp.operation("PATCH", "/supervisees/<id:supervisee_id>", summary="Change a supervisee",
              body=SuperviseeUpdate, response=SuperviseeOut, auth="officer",
              audit="supervisee.update", audit_target=TARGET, errors=(409,))
def update_supervisee(supervisee_id: int, body: SuperviseeUpdate):
    changes = body.model_dump(exclude_unset=True)
    g.audit.details = {"fields": sorted(changes)}
    return service.update_supervisee(db.session, current_principal(), supervisee_id, changes, now())
