"""The supervisees: the searchable list, and one supervisee's page with its two acts (device reset, spot check now).

The same services, scope and audit actions as ``/api/v1/supervisees`` (``supervisee.list``,
``supervisee.read``, ``supervisee.device_reset``, ``spot_check.create``); the page gathers what
the API serves at several addresses: the timeline, the week's windows, points, leave.
"""
from __future__ import annotations

from flask import current_app, flash, render_template, request, url_for
from flask_babel import gettext as _

from ..api import audit_filters
from ..auth import service as auth_service
from ..checkins import service as checkins
from ..checkins.schedule import week_for
from ..checkins.schemas import SpotCheckIn
from ..database import db
from ..locations import ingest_keys
from ..monitoring.status_code import compliance_colour
from ..people.access import current_principal
from ..people.models import LEVELS
from ..people.service import get_supervisee
from ..schemas import PageQuery
from ..time import local_zone, now
from ..timeline.service import timeline
from . import queries, roster
from .blueprint import bp
from .forms import form_of, query_of
from .web import see_other

TARGET = ("supervisee", "supervisee_id")
TIMELINE_SIZE, LEDGER_SIZE, LEAVE_SIZE = 20, 20, 10


@bp.page("GET", "/supervisees", audit="supervisee.list")
def supervisees():
    """The supervisees in scope: search by name, phone or the ID number's last four; filter; page."""
    query = query_of(roster.RosterQuery)
    audit_filters(query)
    principal = current_principal()
    page = roster.roster(db.session, current_app.config["SETTINGS"], principal, query, now())
    chosen = {name: value for name, value in request.args.items() if value and name != "cursor"}
    more_url = url_for("console.supervisees", **chosen, cursor=page["next_cursor"]) if page["next_cursor"] else None
    return render_template("supervisees.html", **page, query=query, more_url=more_url, levels=LEVELS,
                           offices=queries.office_choices(db.session, principal))


@bp.page("GET", "/supervisees/<id:supervisee_id>", audit="supervisee.read", audit_target=TARGET)
def supervisee(supervisee_id: int):
    """One supervisee: who, how compliant, what happened, this week's windows, points, leave, and the acts."""
    settings, at = current_app.config["SETTINGS"], now()
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    cursors = query_of(roster.PersonPageQuery)
    events = timeline(db.session, person.id, PageQuery(limit=TIMELINE_SIZE, cursor=cursors.timeline))
    ledger = roster.ledger_page(db.session, person.id, PageQuery(limit=LEDGER_SIZE, cursor=cursors.ledger))
    leave = roster.leave_page(db.session, person.id, PageQuery(limit=LEAVE_SIZE, cursor=cursors.leave))
    return render_template(
        "supervisee.html", person=person, office=queries.office_name(db.session, person.office_id),
        colour=compliance_colour(db.session, settings, person.id, at),
        ingest_key=ingest_keys.status(db.session, settings, person.id, at),
        events=events, week=week_for(db.session, settings, person, at),
        spot_checks=checkins.pending_spot_checks(db.session, person.id, at),
        balance=roster.balance(db.session, person.id), ledger=ledger, leave=leave,
        max_minutes=settings.SPOT_CHECK_MAX_MINUTES, default_minutes=settings.SPOT_CHECK_MINUTES)


@bp.page("GET", "/supervisees/<id:supervisee_id>/device-reset", audit="supervisee.read", audit_target=TARGET)
def confirm_device_reset(supervisee_id: int):
    """Ask the officer to confirm the reset, saying what it does."""
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    return render_template("device_reset.html", person=person)


@bp.page("POST", "/supervisees/<id:supervisee_id>/device-reset", audit="supervisee.device_reset",
         audit_target=TARGET, error_page="supervisee_refused.html")
def device_reset(supervisee_id: int):
    """Unbind the phone (its logins and ingest key end); the next login binds a new one."""
    auth_service.reset_device(db.session, current_principal(), supervisee_id, now())
    flash(_("The phone was unbound: the next login binds a new one."))
    return see_other(url_for("console.supervisee", supervisee_id=supervisee_id))


@bp.page("POST", "/supervisees/<id:supervisee_id>/spot-check", audit="spot_check.create", audit_target=TARGET,
         error_page="supervisee_refused.html")
def spot_check(supervisee_id: int):
    """Ask the supervisee to check in now, within the minutes chosen."""
    body = form_of(SpotCheckIn, {"supervisee_id": supervisee_id, "minutes": request.form.get("minutes") or None,
                                 "note": request.form.get("note") or None}, lax=True)
    spot = checkins.request_spot_check(db.session, current_app.config["SETTINGS"], current_principal(),
                                       supervisee_id=supervisee_id, minutes=body.minutes, note=body.note, now=now())
    flash(_("Spot check sent: the answer is due by %(due)s.",
            due=spot.due_at.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")))
    return see_other(url_for("console.supervisee", supervisee_id=supervisee_id))
