"""Check-ins and spot checks: every rule of DESIGN.md, each refusal with its own code.

A refusal rolls the request back, but the attempt itself is kept (officers see refused
check-ins on the timeline) through the ``keep`` writes of the raised error.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..database import prebuilt
from ..errors import DomainError, NotFound, ValidationFailed
from ..events import Breach, CheckinAccepted, publish
from ..leave.models import LeaveRequest
from ..leave.service import close_on_return
from ..locations.fixes import fix_refusal
from ..locations.geometry import distance_m
from ..locations.service import active_zones
from ..notifications.service import acknowledge, notify
from ..people.access import Principal, get_in_scope
from ..people.models import Station, Supervisee
from ..people.service import get_supervisee
from ..time import iso_z
from . import qr
from .doubts import station_checkin_doubts
from .models import Checkin, SpotCheck
from .period_windows import PERIOD_KIND, checkins_meeting, period_window_open_at
from .windows import Window, window_open_at


class CheckinRefused(DomainError):
    status, code = 422, "checkin_refused"


@dataclass
class Fix:
    """The GPS fix a check-in carries."""

    lat: float
    lon: float
    accuracy_m: float
    recorded_at: datetime
    is_mock: bool


@dataclass
class CheckinResult:
    checkin: Checkin
    created: bool


def check_in(session, settings, principal: Principal, *, kind: str, fix: Fix, qr_text: str | None,
             now: datetime) -> CheckinResult:
    """Record a check-in if every rule holds; a repeat in a satisfied window returns the first."""
    person = session.get(Supervisee, principal.id)
    attempt = dict(supervisee_id=person.id, office_id=person.office_id, kind=kind, lat=fix.lat,
                   lon=fix.lon, accuracy_m=fix.accuracy_m, is_mock=fix.is_mock,
                   recorded_at=fix.recorded_at, received_at=now)

    def refuse(code: str, message: str, status: int = 422, details: dict | None = None,
               extra_keep: list | None = None, **recorded: Any):
        row = {**attempt, **recorded, "outcome": "refused", "refusal_code": code}
        keep = [lambda s: s.add(Checkin(**row)), *(extra_keep or [])]
        return CheckinRefused(message, code=code, status=status, details=details or {}, keep=keep)

    device_id = principal.device_id  # the bound phone: unbinding it revokes this login
    if device_id is None:
        raise refuse("device_not_bound", "Check in from the phone bound to your account.", status=403)
    attempt["device_id"] = device_id
    unusable = fix_refusal(settings, recorded_at=fix.recorded_at, accuracy_m=fix.accuracy_m, now=now,
                           max_age=timedelta(seconds=settings.CHECKIN_FIX_MAX_AGE_SECONDS),
                           age_limit="a check-in")
    if unusable is not None:
        if unusable.code == "fix_too_old" and (first := _retried(session, person.id, kind, fix)) is not None:
            return first
        raise refuse(unusable.code, unusable.message, details=unusable.details)
    if fix.is_mock:
        raise refuse("mock_location", "A simulated location was detected; check-in refused.",
                     extra_keep=[_mock_alert(settings, person, fix, now)])
    if kind == "remote" and qr_text:
        raise refuse("qr_not_expected", "A remote check-in carries no station code.")
    if kind == "station" and not qr_text:
        raise refuse("qr_required", "Scan the station's code to report in person.")

    back = _leave_awaiting_return(session, person.id, now) if kind != "spot" else None
    window, spot = _open_window(session, settings, person, kind, now, back)
    if window is None:
        if (first := _retried(session, person.id, kind, fix)) is not None:
            return first  # e.g. the answer to a spot check, which closed the spot check
        raise refuse("no_open_window", "No check-in of this kind is due now.", status=409)
    attempt.update(window_key=window.key, window_closes_at=window.closes_at,
                   spot_check_id=spot.id if spot else None)

    def repeat() -> CheckinResult | None:
        """The first check-in of this window, if it is already satisfied: a repeat returns it."""
        if window.kind == PERIOD_KIND:  # met by any check-in made while it was open, whatever its key
            met = checkins_meeting(session, person.id, [window]).get(window.key)
            first = session.get(Checkin, met) if met is not None else None
        else:
            first = session.execute(_ACCEPTED_IN, {"supervisee_id": person.id, "window_key": window.key}
                                    ).scalar_one_or_none()
        if first is None:
            return None
        if back is not None and kind == "remote" and _inside_home_area(session, person.id, fix):
            close_on_return(session, person.id, now)  # 销假 even when the day's window was already met
        return CheckinResult(first, created=False)

    try:
        if fix.recorded_at < window.opens_at:
            raise refuse("fix_too_old", "The fix was taken before this check-in opened; take a fresh one.")
        if qr_text:
            station, step, distance = _verify_station(session, settings, person, fix, qr_text, now, refuse)
            attempt.update(station_id=station.id, qr_step=step, distance_m=round(distance, 1))
    except CheckinRefused:
        # Checked only now, off the usual path: in a window already satisfied, a repeat that
        # would be refused (an old fix, a code that has since rotated) returns the first result.
        if (first := repeat()) is not None:
            return first
        raise

    if window.kind == PERIOD_KIND and (first := repeat()) is not None:
        return first
    new_id = session.execute(_insert_accepted(session), {**attempt, "outcome": "accepted"}).scalar_one_or_none()
    if new_id is None:  # the window was satisfied already, or a concurrent twin got there first
        return repeat()
    if spot is not None:
        session.execute(sa.update(SpotCheck).where(SpotCheck.id == spot.id, SpotCheck.status == "pending")
                        .values(status="answered", answered_at=now))
        acknowledge(session, dedupe_key=f"spot_check:{spot.id}", now=now)  # no text need follow
    else:
        acknowledge(session, dedupe_key=f"reminder:{person.id}:{window.key}", now=now)
    accepted = Checkin(id=new_id, outcome="accepted", refusal_code=None, **attempt)  # as written, not re-read
    if back is not None and (kind == "station" or _inside_home_area(session, person.id, fix)):
        close_on_return(session, person.id, now)  # 销假: back home, reported
    publish(session, settings, CheckinAccepted(supervisee_id=person.id, office_id=person.office_id, kind=kind,
                                               checkin_id=accepted.id, at=now,
                                               window_key=window.key))
    if qr_text:
        for doubt in station_checkin_doubts(session, settings, accepted, station):
            publish(session, settings, Breach(supervisee_id=doubt.supervisee_id, office_id=doubt.office_id,
                                              type="doubtful_checkin", subject_key=doubt.subject_key, at=now,
                                              evidence=doubt.evidence))
    return CheckinResult(accepted, created=True)


def _retried(session, person_id: int, kind: str, fix: Fix) -> CheckinResult | None:
    """The accepted check-in this request repeats, if any: same person, kind and fix time.

    A phone that lost the answer sends the same body again; by then the window may be closed
    (a spot check closes with its answer) or the fix too old. Asked only off the usual path.
    """
    first = session.execute(_ACCEPTED_WITH_FIX, {"supervisee_id": person_id, "kind": kind,
                                                 "recorded_at": fix.recorded_at}).scalars().first()
    return CheckinResult(first, created=False) if first is not None else None


def _inside_home_area(session, person_id: int, fix: Fix) -> bool:
    """Whether the fix is surely inside the person's own permitted area (not a leave destination)."""
    return any(zone.kind == "permitted" and zone.starts is None
               and zone.shape.signed_distance(fix.lat, fix.lon) < -fix.accuracy_m
               for zone in active_zones(session, person_id, since=fix.recorded_at))


def request_spot_check(session, settings, principal: Principal, *, supervisee_id: int,
                       minutes: int | None, note: str | None, now: datetime) -> SpotCheck:
    """Ask a supervisee in scope to check in within ``minutes``; notify their phone."""
    if minutes is not None and minutes > settings.SPOT_CHECK_MAX_MINUTES:
        raise ValidationFailed(details={"fields": [{
            "path": "minutes", "code": "too_long", "message": f"at most {settings.SPOT_CHECK_MAX_MINUTES} minutes"}]})
    person = get_supervisee(session, principal, supervisee_id)
    if person.status != "active":
        raise DomainError("Supervision has ended for this person.", status=409, code="supervision_ended")
    # Two officers asking at once queue on the person's row, so the second sees the first's spot check.
    session.execute(sa.select(Supervisee.id).where(Supervisee.id == person.id).with_for_update(key_share=True))
    if _pending_spot(session, person.id, now) is not None:
        raise DomainError("A spot check is already waiting for an answer.", status=409,
                          code="spot_check_pending")
    minutes = minutes or settings.SPOT_CHECK_MINUTES
    spot = SpotCheck(supervisee_id=person.id, office_id=person.office_id, requested_by=principal.id,
                     requested_at=now, due_at=now + timedelta(minutes=minutes), status="pending",
                     note=note)
    session.add(spot)
    session.flush()
    tell_spot_check(session, spot, minutes, now)
    return spot


def tell_spot_check(session, spot: SpotCheck, minutes: int, now: datetime) -> None:
    """Queue the notice that asks the supervisee to answer ``spot`` (once per spot check)."""
    notify(session, supervisee_id=spot.supervisee_id, kind="spot_check", title="实时签到 Spot check",
           body=f"Check in with a fresh location within {minutes} minutes.", now=now,
           data={"spot_check_id": spot.id, "due_at": iso_z(spot.due_at)},
           dedupe_key=f"spot_check:{spot.id}", expires_at=spot.due_at)  # never sent once it is due


def pending_spot_checks(session, supervisee_id: int, now: datetime) -> list[SpotCheck]:
    """Return the spot checks the supervisee can still answer."""
    return list(session.execute(sa.select(SpotCheck).where(
        SpotCheck.supervisee_id == supervisee_id, SpotCheck.status == "pending",
        SpotCheck.due_at > now).order_by(SpotCheck.due_at)).scalars())


def _pending_spot(session, supervisee_id: int, now: datetime) -> SpotCheck | None:
    return session.execute(sa.select(SpotCheck).where(
        SpotCheck.supervisee_id == supervisee_id, SpotCheck.status == "pending",
        SpotCheck.requested_at <= now, SpotCheck.due_at > now)
        .order_by(SpotCheck.requested_at.desc()).limit(1)).scalar_one_or_none()


def _open_window(session, settings, person, kind: str, now: datetime, back=None):
    if kind == "station":
        if back is not None:  # 销假: reporting back in person closes the leave, due window or not
            return Window(kind="station", key=f"return:{back.id}", first_day=back.start_at.date(),
                          due_day=back.end_at.date(), opens_at=back.start_at,
                          closes_at=back.end_at + timedelta(days=30)), None
    if kind == "remote":
        return _remote_window(session, settings, person, now), None
    if kind != "spot":
        return window_open_at(settings, person, kind, now), None
    spot = _pending_spot(session, person.id, now)
    if spot is None:
        return None, None
    return Window(kind="spot", key=f"spot:{spot.id}", first_day=spot.requested_at.date(),
                  due_day=spot.due_at.date(), opens_at=spot.requested_at, closes_at=spot.due_at), spot


def _remote_window(session, settings, person, now: datetime) -> Window | None:
    """The regular remote window, or a period's extra window when the regular one is met or shut.

    While both are open and the regular one is unmet, the check-in goes to the regular window and
    meets the period's too (a period window is met by any check-in made while it is open).
    """
    regular = window_open_at(settings, person, "remote", now)
    extra = period_window_open_at(session, settings, person, now)
    if extra is None:
        return regular
    if regular is None or session.execute(_ACCEPTED_IN, {"supervisee_id": person.id, "window_key": regular.key}
                                          ).scalar_one_or_none() is not None:
        return extra
    return regular


def _leave_awaiting_return(session, supervisee_id: int, now: datetime):
    return session.execute(_LEAVE_AWAITING_RETURN, {"supervisee_id": supervisee_id, "now": now}).scalar_one_or_none()


# The statements of every check-in, composed once (see database.prebuilt).
_LEAVE_AWAITING_RETURN = sa.select(LeaveRequest).where(
    LeaveRequest.supervisee_id == sa.bindparam("supervisee_id"), LeaveRequest.status == "approved",
    LeaveRequest.start_at <= sa.bindparam("now")).order_by(LeaveRequest.start_at).limit(1)
_ACCEPTED_IN = sa.select(Checkin).where(Checkin.supervisee_id == sa.bindparam("supervisee_id"),
                                        Checkin.window_key == sa.bindparam("window_key"),
                                        Checkin.outcome == "accepted")
_ACCEPTED_WITH_FIX = sa.select(Checkin).where(Checkin.supervisee_id == sa.bindparam("supervisee_id"),
                                              Checkin.kind == sa.bindparam("kind"),
                                              Checkin.recorded_at == sa.bindparam("recorded_at"),
                                              Checkin.outcome == "accepted").order_by(Checkin.id)
_STATION_OF_OFFICE = sa.select(Station).where(Station.id == sa.bindparam("station_id"),
                                              Station.office_id == sa.bindparam("office_id"), Station.active)


@prebuilt
def _insert_accepted(insert):
    table = Checkin.__table__
    return (insert(table).on_conflict_do_nothing(index_elements=["supervisee_id", "window_key"],
                                                 index_where=sa.text("outcome = 'accepted'"))
            .returning(table.c.id))


def _verify_station(session, settings, person, fix: Fix, qr_text: str, now: datetime, refuse):
    try:
        code = qr.parse(qr_text)
    except qr.QrRefused as error:
        raise refuse(error.code, error.message) from None
    station = session.execute(_STATION_OF_OFFICE, {"station_id": code.station_id, "office_id": person.office_id}
                              ).scalar_one_or_none()
    if station is None:  # another office's station reads as a code that is not ours
        raise refuse("qr_invalid", "This station code is not valid for you.")
    try:
        qr.verify(code, station.qr_secret, now, settings.QR_STEP_SECONDS, settings.QR_PREVIOUS_STEPS)
    except qr.QrRefused as error:
        raise refuse(error.code, error.message, station_id=station.id) from None
    distance = distance_m(fix.lat, fix.lon, station.lat, station.lon)
    allowed = station.radius_m + min(fix.accuracy_m, settings.ACCURACY_CAP_M)
    if distance > allowed:
        raise refuse("too_far_from_station", "You are not at the station; check in there.",
                     details={"distance_m": round(distance, 1), "allowed_m": round(allowed, 1)},
                     station_id=station.id, distance_m=round(distance, 1))
    return station, code.step, distance


def _mock_alert(settings, person: Supervisee, fix: Fix, now: datetime):
    person_id, office_id = person.id, person.office_id
    local_day = now.astimezone(ZoneInfo(settings.LOCAL_TIMEZONE)).date()

    def write(session) -> None:
        publish(session, settings, Breach(
            supervisee_id=person_id, office_id=office_id, type="mock_location",
            subject_key=f"mock:{local_day.isoformat()}", at=now,
            evidence={"source": "checkin", "lat": fix.lat, "lon": fix.lon, "recorded_at": iso_z(fix.recorded_at)}))

    return write


def station_for_officer(session, principal: Principal, station_id: int) -> Station:
    """Return an active station of the caller's scope; 404 otherwise (a retired one shows no code)."""
    return get_in_scope(session, principal, Station, station_id, where=(Station.active,),
                        not_found=NotFound("No such station.", code="station_not_found"))


def blur_checkin_locations(session, *, before: datetime, people: sa.Select) -> int:
    """Forget where check-ins older than ``before``, or of ``people``, were made; keep the check-ins.

    A check-in is a supervision record (it satisfied a window or it did not), kept with the file;
    its coordinates, accuracy and distance to the station are location data, kept no longer than
    the fixes. Return the check-ins blurred.
    """
    return session.execute(
        sa.update(Checkin)
        .where(sa.or_(Checkin.received_at < before, Checkin.supervisee_id.in_(people)),
               sa.or_(Checkin.lat.is_not(None), Checkin.lon.is_not(None), Checkin.accuracy_m.is_not(None),
                      Checkin.distance_m.is_not(None)))
        .values(lat=None, lon=None, accuracy_m=None, distance_m=None)).rowcount
