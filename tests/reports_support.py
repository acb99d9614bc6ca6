"""A hand-computed week for the weekly-report tests (2026-W48, Mon 23rd – Sun 29th November, Shanghai).

Bureau 金华市婺城区司法局 has two offices; another bureau has one more (never in the first one's
reports). Every figure the tests expect is worked out below, next to the rows that make it.

城中街道司法所 (office A), three supervisees under supervision all week (168 supervised hours):

  张三 (strict: a daily remote window and a weekly station window, closing 20:00 local)
    remote Mon–Fri done, Sat and Sun missed, the station window (Sun) missed
        → expected 8, done 5, misses 3, on-time 0.625
    one refused check-in (Tue); spot checks: Tue answered, Thu missed → 2 requested, 1 answered
    alerts raised in the week: missed_checkin Sat (ack 10 min), Sun remote (ack 90 min), Sun station
        (open); missed_spot_check Thu (ack 45 min, resolved); zone_exit Tue (high, open)
        → 5 alerts, 1 zone breach, 4 unresolved at week end, status red (a high alert open)
    fixes in hours 0..41 of the week, two per hour → coverage 42/168 = 0.25, last fix Tue 17:30 local
        (plus one fix the week before and one the week after, which do not count)
    points: +2 earned; a -5 penalty is neither earned nor spent
  李四 (normal: a weekly remote window; the November station window closes Mon 30th, next week)
    remote done (closes Sun) → expected 1, done 1, on-time 1.0; one spot check, answered
    no alerts → green
    a fix every other hour → 84/168 = 0.5, last fix Sun 22:00 local
    points: +2 and +10 earned; redemptions of 30 and 20, the 20 refunded → 12 earned, 30 spent
  王五 (strict)
    remote done every day but Wed (missed), station done → expected 8, done 7, misses 1
    alerts raised in the week: missed_checkin Wed (ack 30 min, still unresolved); zone_exit Fri
        (high, ack 20 min, resolved); plus a signal_lost raised the week before and still open
        → 2 alerts, 1 zone breach, 2 unresolved at week end, status yellow
    fixes in hours 0..125 → 126/168 = 0.75, last fix Sat 05:15 local
    points: +5 earned

  office totals: 3 supervisees, expected 17, done 13, misses 4, on-time 13/17 = 0.7647,
    refused 1, spot checks 3 requested / 2 answered, 7 alerts, 2 zone breaches, 6 unresolved,
    coverage (0.25 + 0.5 + 0.75) / 3 = 0.5, points 19 earned / 30 spent, green/yellow/red 1/1/1
  alerts by type: missed_checkin 4 (3 acknowledged after 600, 5400, 1800 s → median 1800, worst
    5400); missed_spot_check 1 (2700, 2700); zone_exit 2 (1 acknowledged: 1200, 1200)
  daily done/missed Mon..Sun: 2/0, 2/0, 1/1, 2/0, 2/0, 1/1, 3/2
  the week before (W47): 张三 7 remote done + the station window missed, 李四 1 done → expected 9,
    done 8, misses 1, on-time 0.8889; alerts 2 (张三's miss, resolved; 王五's signal_lost)
    → change: expected +8, done +5, misses +3, alerts +5, on-time 0.7647 - 0.8889 = -0.1242

江南街道司法所 (office B): 赵六 (normal), remote done, no fixes → expected 1, done 1, coverage 0.0.
  bureau totals: 4 supervisees, expected 18, done 14, misses 4, on-time 0.7778, coverage 0.375.

西城街道司法所 of 金东区司法局 (another bureau): 孙九 (strict) with a check-in and a miss in W48.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from correction.alerts.models import Alert, MissedWindow
from correction.checkins.models import Checkin, SpotCheck
from correction.database import db
from correction.locations.models import LocationFix
from correction.mall import points
from tests.factories import API, OfficerLogin

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Mon 2026-11-23 00:00 Shanghai: 2026-W48 begins
WEEK_END = MONDAY + timedelta(days=7)  # Mon 2026-11-30 00:00 Shanghai: 2026-W49 begins
PREVIOUS_MONDAY = MONDAY - timedelta(days=7)  # 2026-W47
AFTER_THE_WEEK = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tue 2026-12-01 10:00 Shanghai
ENROLLED = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock moment as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def closes(day: int, monday: datetime = MONDAY) -> datetime:
    """20:00 local on day ``day`` (0 = Monday) of the week starting ``monday``."""
    return monday + timedelta(days=day, hours=20)


def checkin(person, kind: str, closes_at: datetime, key: str, outcome: str = "accepted", **extra) -> Checkin:
    received_at = extra.pop("received_at", None) or closes_at - timedelta(hours=3)
    return Checkin(supervisee_id=person.id, office_id=person.office_id, kind=kind, outcome=outcome,
                   window_key=key, window_closes_at=closes_at, received_at=received_at,
                   lat=29.08, lon=119.65, accuracy_m=10.0, **extra)


def missed(person, kind: str, closes_at: datetime, key: str) -> MissedWindow:
    return MissedWindow(supervisee_id=person.id, office_id=person.office_id, kind=kind, window_key=key,
                        closes_at=closes_at, detected_at=closes_at + timedelta(minutes=5), alerted=True)


def alert(person, type_: str, raised_at: datetime, *, severity: str = "medium", ack_minutes: float | None = None,
          resolved_minutes: float | None = None, key: str | None = None) -> Alert:
    acknowledged = None if ack_minutes is None else raised_at + timedelta(minutes=ack_minutes)
    resolved = None if resolved_minutes is None else raised_at + timedelta(minutes=resolved_minutes)
    status = "resolved" if resolved else "acknowledged" if acknowledged else "open"
    return Alert(supervisee_id=person.id, office_id=person.office_id, type=type_, severity=severity,
                 subject_key=key or f"{type_}:{raised_at.isoformat()}", evidence={}, status=status,
                 raised_at=raised_at, acknowledged_at=acknowledged, resolved_at=resolved,
                 outcome="excused" if resolved else None)


def fix(person, at: datetime) -> LocationFix:
    return LocationFix(supervisee_id=person.id, recorded_at=at, received_at=at, lat=29.08, lon=119.65,
                       accuracy_m=10.0, is_mock=False, source="app")


def spot(person, officer_id: int, requested_at: datetime, status: str) -> SpotCheck:
    return SpotCheck(supervisee_id=person.id, office_id=person.office_id, requested_by=officer_id,
                     requested_at=requested_at, due_at=requested_at + timedelta(minutes=15), status=status,
                     answered_at=requested_at + timedelta(minutes=5) if status == "answered" else None)


def post_points(session, person, delta: int, event: str, ref: str, at: datetime) -> None:
    assert points.post(session, supervisee_id=person.id, office_id=person.office_id, delta=delta, event=event,
                       event_ref=ref, reason="test", now=at) is not None


def add_rows(app, *rows) -> None:
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()


def get_report(client, headers, fmt: str = "json", **params):
    query = "&".join(f"{k}={v}" for k, v in {"week": "2026-W48", "format": fmt, **params}.items() if v is not None)
    return client.get(f"{API}/reports/weekly?{query}", headers=headers)


@dataclass
class Scene:
    bureau: object
    office: object  # 城中街道司法所
    office_b: object  # 江南街道司法所
    other_office: object  # 西城街道司法所 of another bureau
    officer: OfficerLogin  # of office A
    officer_b: OfficerLogin
    supervisor: OfficerLogin  # of the bureau
    zhang: object
    li: object
    wang: object
    zhao: object
    sun: object


def seed_week(app, make, clock) -> Scene:
    """Build the week described in the module docstring; leave the clock on Tue 1 Dec 10:00 local."""
    clock.set(ENROLLED)
    bureau = make.bureau("金华市婺城区司法局")
    office = make.office(bureau, name="城中街道司法所")
    office_b = make.office(bureau, name="江南街道司法所")
    other_office = make.office(make.bureau("金华市金东区司法局"), name="西城街道司法所")
    officer, officer_b = make.officer(office), make.officer(office_b)
    supervisor = make.officer(role="supervisor", bureau_id=bureau.id)
    zhang = make.supervisee(office, officer.officer, level="strict", name="张三").supervisee
    li = make.supervisee(office, officer.officer, level="normal", name="李四").supervisee
    wang = make.supervisee(office, officer.officer, level="strict", name="王五").supervisee
    zhao = make.supervisee(office_b, officer_b.officer, level="normal", name="赵六").supervisee
    sun = make.supervisee(other_office, level="strict", name="孙九").supervisee
    clock.set(AFTER_THE_WEEK)

    with app.app_context():
        s = db.session
        rows: list = []
        # --- W48 check-ins and misses -------------------------------------------------------------
        for day in range(5):
            rows.append(checkin(zhang, "remote", closes(day), f"remote:2026-11-{23 + day}"))
        rows += [missed(zhang, "remote", closes(5), "remote:2026-11-28"),
                 missed(zhang, "remote", closes(6), "remote:2026-11-29"),
                 missed(zhang, "station", closes(6), "station:2026-11-23")]
        rows.append(checkin(zhang, "remote", None, None, outcome="refused", refusal_code="too_far",
                            received_at=local(2026, 11, 24, 9)))
        rows.append(checkin(li, "remote", closes(6), "remote:2026-11-23"))
        for day in (0, 1, 3, 4, 5, 6):
            rows.append(checkin(wang, "remote", closes(day), f"remote:2026-11-{23 + day}"))
        rows.append(missed(wang, "remote", closes(2), "remote:2026-11-25"))
        rows.append(checkin(wang, "station", closes(6), "station:2026-11-23", received_at=local(2026, 11, 26, 15)))
        rows.append(checkin(zhao, "remote", closes(6), "remote:2026-11-23"))
        rows += [checkin(sun, "remote", closes(0), "remote:2026-11-23"),
                 missed(sun, "remote", closes(1), "remote:2026-11-24")]
        # --- W47: the week before ---------------------------------------------------------------
        for day in range(7):
            rows.append(checkin(zhang, "remote", closes(day, PREVIOUS_MONDAY), f"remote:2026-11-{16 + day}"))
        rows.append(missed(zhang, "station", closes(6, PREVIOUS_MONDAY), "station:2026-11-16"))
        rows.append(checkin(li, "remote", closes(6, PREVIOUS_MONDAY), "remote:2026-11-16"))
        rows.append(checkin(zhang, "remote", None, None, outcome="refused", refusal_code="too_far",
                            received_at=local(2026, 11, 17, 9)))
        # --- alerts -------------------------------------------------------------------------------
        rows += [
            alert(zhang, "missed_checkin", closes(5) + timedelta(minutes=5), ack_minutes=10),
            alert(zhang, "missed_checkin", closes(6) + timedelta(minutes=5), ack_minutes=90, key="remote:2026-11-29"),
            alert(zhang, "missed_checkin", closes(6) + timedelta(minutes=5), key="station:2026-11-23"),
            alert(zhang, "missed_spot_check", local(2026, 11, 26, 15, 20), ack_minutes=45, resolved_minutes=60),
            alert(zhang, "zone_exit", local(2026, 11, 24, 11), severity="high"),
            alert(wang, "missed_checkin", closes(2) + timedelta(minutes=5), ack_minutes=30),
            alert(wang, "zone_exit", local(2026, 11, 27, 9), severity="high", ack_minutes=20, resolved_minutes=40),
            alert(wang, "signal_lost", local(2026, 11, 19, 9), severity="low"),
            alert(zhang, "missed_checkin", closes(6, PREVIOUS_MONDAY) + timedelta(minutes=5), ack_minutes=60,
                  resolved_minutes=120),
            alert(sun, "missed_checkin", closes(1) + timedelta(minutes=5), severity="high"),
        ]
        # --- spot checks ----------------------------------------------------------------------------
        rows += [spot(zhang, officer.officer.id, local(2026, 11, 24, 10), "answered"),
                 spot(zhang, officer.officer.id, local(2026, 11, 26, 15), "missed"),
                 spot(li, officer.officer.id, local(2026, 11, 25, 11), "answered"),
                 spot(li, officer.officer.id, local(2026, 12, 1, 9), "answered")]  # next week
        # --- location fixes -------------------------------------------------------------------------
        rows += [fix(zhang, MONDAY + timedelta(hours=h, minutes=m)) for h in range(42) for m in (0, 30)]
        rows += [fix(zhang, MONDAY - timedelta(hours=1)), fix(zhang, WEEK_END + timedelta(hours=1))]
        rows += [fix(li, MONDAY + timedelta(hours=h)) for h in range(0, 168, 2)]
        rows += [fix(wang, MONDAY + timedelta(hours=h, minutes=15)) for h in range(126)]
        s.add_all(rows)
        s.flush()
        # --- points ------------------------------------------------------------------------------
        post_points(s, zhang, 100, "compliant_week", "2026-W47", local(2026, 11, 20, 1))  # W47
        post_points(s, zhang, 2, "checkin_remote", "w48", local(2026, 11, 23, 9))
        post_points(s, zhang, -5, "missed_checkin", "w48", local(2026, 11, 28, 20, 5))
        post_points(s, li, 100, "compliant_week", "2026-W47", local(2026, 11, 20, 1))  # W47
        post_points(s, li, 2, "checkin_remote", "w48", local(2026, 11, 24, 9))
        post_points(s, li, 10, "compliant_week", "2026-W48-bonus", local(2026, 11, 29, 23, 59))
        post_points(s, li, -30, "redemption", "order-1", local(2026, 11, 25, 12))
        post_points(s, li, -20, "redemption", "order-2", local(2026, 11, 26, 12))
        post_points(s, li, 20, "refund", "order-2", local(2026, 11, 27, 12))
        post_points(s, li, -7, "redemption", "order-3", local(2026, 11, 30, 0, 1))  # W49
        post_points(s, wang, 5, "checkin_station", "w48", local(2026, 11, 26, 15))
        s.commit()
    return Scene(bureau, office, office_b, other_office, officer, officer_b, supervisor, zhang, li, wang, zhao, sun)
