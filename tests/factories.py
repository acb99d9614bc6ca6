"""The one builder of test data: rows, whole scenes, and the requests the apps send.

``make`` (a :class:`Factory`) builds committed rows and, from them, the scenes tests act on, each a
small dataclass with named fields: :meth:`Factory.scene` (an office at work), :meth:`Factory.org`
(two bureaus), :meth:`Factory.report_week` (a hand-computed week). ``auth`` (an :class:`Auth`)
logs officers and supervisees in. The ``*_row`` functions build rows as jobs and phones leave them
(``make.add`` saves them); the functions at the end send what the apps send, and answer the response.
Assertions and read-backs are in tests/assertions.py.
"""
from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
from geopy.distance import geodesic

from correction.alerts.models import Alert, MissedWindow
from correction.checkins import qr
from correction.checkins.models import Checkin, SpotCheck
from correction.database import db
from correction.locations.models import LocationFix
from correction.mall import points
from correction.mall.models import MallItem
from correction.people.models import Bureau, Office, Officer, Station, Supervisee
from correction.security import hash_national_id, national_id_check_char
from correction.time import UTC, iso_z

API = "/api/v1"
CHECKINS = f"{API}/me/checkins"
ME_POINTS = f"{API}/me/points"
LEDGER = f"{API}/me/points/ledger"
ADJUST = f"{API}/points/adjustments"
ITEMS = f"{API}/mall/items"
ORDERS = f"{API}/mall/orders"
MY_ORDERS = f"{API}/me/orders"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_LAT, STATION_LON = 29.0833, 119.6490  # where the factory puts a station
STATION = (STATION_LAT, STATION_LON)
_seq = itertools.count(1)
_refs = itertools.count(1)
_keys = itertools.count(1)


# --- time and place ---------------------------------------------------------------------------------

def local(year, month, day, hour=0, minute=0, second=0) -> datetime:
    """A moment given in Shanghai wall-clock time, as aware UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)


def point_at(metres: float, bearing: float = 90.0, origin=STATION) -> tuple[float, float]:
    """The point ``metres`` away from ``origin`` along ``bearing`` (geodesic, WGS-84)."""
    there = geodesic(meters=metres).destination(origin, bearing)
    return there.latitude, there.longitude


# A square of about 9.7 km x 11 km around Jinhua: the home permitted area.
SQUARE = {"type": "Polygon", "coordinates": [[[119.60, 29.00], [119.70, 29.00], [119.70, 29.10],
                                               [119.60, 29.10], [119.60, 29.00]]]}
M_PER_DEG_LON = 111_320 * 0.87419  # at 29.05°N (cos 29.05° ≈ 0.87419)
M_PER_DEG_LAT = 110_574
INSIDE = (29.05, 119.65)  # the centre, ~4.9 km from every edge
INSIDE_2 = (29.06, 119.66)
OUTSIDE = (29.05, 119.75)  # ~4.9 km east of the east edge


def east_of_edge(metres: float) -> tuple[float, float]:
    """A point ``metres`` east of the square's east edge (negative: inside)."""
    return (29.05, 119.70 + metres / M_PER_DEG_LON)


# The report week, 2026-W48 (see ReportWeek), and the moments around it.
MONDAY = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Mon 2026-11-23 00:00 Shanghai: 2026-W48 begins
WEEK_END = MONDAY + timedelta(days=7)  # Mon 2026-11-30 00:00 Shanghai: 2026-W49 begins
PREVIOUS_MONDAY = MONDAY - timedelta(days=7)  # 2026-W47
AFTER_THE_WEEK = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tue 2026-12-01 10:00 Shanghai
ENROLLED = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def closes(day: int, monday: datetime = MONDAY) -> datetime:
    """20:00 local on day ``day`` (0 = Monday) of the week starting ``monday``."""
    return monday + timedelta(days=day, hours=20)


def valid_national_id(n: int | None = None) -> str:
    """Return a national ID number with a correct check character."""
    n = next(_seq) if n is None else n
    first17 = f"330702198{(n // 1000) % 10}0101{n % 1000:03d}"
    return first17 + national_id_check_char(first17)


# --- logins and scenes ------------------------------------------------------------------------------

@dataclass
class OfficerLogin:
    officer: Officer
    password: str
    totp_secret: str


@dataclass
class SuperviseeLogin:
    supervisee: Supervisee
    password: str
    device_id: str


@dataclass
class Scene:
    """One office at work: its officer and a supervisee of theirs; on request a station, a second
    supervisee, the officer's headers and the supervisee's phone (headers from the bound device)."""
    office: Office
    officer: OfficerLogin
    person: SuperviseeLogin
    station: Station | None = None
    other: SuperviseeLogin | None = None
    headers: dict[str, str] | None = None
    phone: dict[str, str] | None = None

    @property
    def person_id(self) -> int:
        return self.person.supervisee.id


@dataclass
class Org:
    """Two bureaus. 金华市婺城区司法局 has 城中街道司法所 (``office``) and 城东街道司法所 (``sister_office``),
    an officer and a supervisee in each, and a supervisor; 兰溪市司法局 (``other_bureau``) has
    云山街道司法所 (``foreign_office``) with its officer, a supervisee and its own supervisor."""
    bureau: Bureau
    office: Office
    sister_office: Office
    other_bureau: Bureau
    foreign_office: Office
    officer: OfficerLogin
    sister_officer: OfficerLogin
    supervisor: OfficerLogin
    foreign_supervisor: OfficerLogin
    person: SuperviseeLogin
    sister_person: SuperviseeLogin
    foreign_officer: OfficerLogin
    foreign_person: SuperviseeLogin
    other: SuperviseeLogin | None = None  # a second supervisee of ``officer``, on request
    headers: dict[str, str] | None = None  # ``officer`` logged in, on request
    supervisor_headers: dict[str, str] | None = None


@dataclass
class ReportWeek:
    """The hand-computed week of the weekly-report tests, built by ``make.report_week()``.

    2026-W48, Mon 23rd – Sun 29th November, Shanghai. Bureau 金华市婺城区司法局 has two offices;
    another bureau has one more (never in the first one's reports). Every figure the tests expect is
    worked out below, next to the rows that make it.

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
    bureau: Bureau
    office: Office  # 城中街道司法所
    office_b: Office  # 江南街道司法所
    other_office: Office  # 西城街道司法所 of another bureau
    officer: OfficerLogin  # of office A
    officer_b: OfficerLogin
    supervisor: OfficerLogin  # of the bureau
    zhang: Supervisee
    li: Supervisee
    wang: Supervisee
    zhao: Supervisee
    sun: Supervisee


class Factory:
    """Builds rows directly in the database, committed, and the scenes tests act on."""

    def __init__(self, app, clock, auth: Auth | None = None):
        self.app, self.clock, self.auth = app, clock, auth

    def _save(self, obj):
        with self.app.app_context():
            db.session.add(obj)
            db.session.commit()
            db.session.refresh(obj)
            db.session.expunge(obj)
        return obj

    def bureau(self, name: str = "金华市婺城区司法局") -> Bureau:
        return self._save(Bureau(code=f"bureau-{next(_seq)}", name=name))

    def office(self, bureau: Bureau | None = None, name: str = "城中街道司法所") -> Office:
        bureau = bureau or self.bureau()
        return self._save(Office(bureau_id=bureau.id, code=f"office-{next(_seq)}", name=name))

    def station(self, office: Office, lat=STATION_LAT, lon=STATION_LON, radius_m=100.0) -> Station:
        return self._save(Station(office_id=office.id, name="报到点", lat=lat, lon=lon,
                                  radius_m=radius_m, qr_secret=secrets.token_hex(32), active=True))

    def officer(self, office: Office | None = None, role: str = "officer", bureau_id: int | None = None,
                password: str = "officer-password-1") -> OfficerLogin:
        office = office or (self.office() if role == "officer" and bureau_id is None else None)
        bureau_id = bureau_id or office.bureau_id
        secret = pyotp.random_base32()
        with self.app.app_context():
            hashed = self.app.extensions["correction.hasher"].hash(password)
        n = next(_seq)
        person = self._save(Officer(bureau_id=bureau_id, office_id=office.id if office else None,
                                    username=f"officer{n}", name=f"专干{n}", role=role,
                                    password_hash=hashed, totp_secret=secret, failed_logins=0,
                                    totp_enrolled_at=self.clock(), active=True, created_at=self.clock()))
        return OfficerLogin(person, password, secret)

    def supervisee(self, office: Office, officer: Officer | None = None, level: str = "normal",
                   password: str = "phone-password-1", start: date = date(2026, 1, 1),
                   end: date = date(2027, 12, 31), status: str = "active", **extra) -> SuperviseeLogin:
        officer_id = officer.id if officer else self.officer(office).officer.id
        n = next(_seq)
        national_id = extra.pop("national_id", valid_national_id(n))
        with self.app.app_context():
            hashed = self.app.extensions["correction.hasher"].hash(password)
            id_hash = hash_national_id(self.app.config["SETTINGS"].SECRET_KEY, national_id)
        person = self._save(Supervisee(
            office_id=office.id, officer_id=officer_id, name=extra.pop("name", f"矫正对象{n}"),
            phone=extra.pop("phone", f"1380000{n:04d}"), password_hash=hashed,
            national_id_hash=id_hash, national_id_last4=national_id[-4:],
            sentence_type=extra.pop("sentence_type", "probation"), supervision_start=start,
            supervision_end=end, level=level, status=status, failed_logins=0,
            created_at=self.clock(), updated_at=self.clock(), **extra))
        return SuperviseeLogin(person, password, f"device-{n}")

    def give(self, person: SuperviseeLogin, delta: int, event: str = "adjustment") -> None:
        """Post ``delta`` points to a person's ledger through the one points service, committed."""
        with self.app.app_context():
            entry = points.post(db.session, supervisee_id=person.supervisee.id,
                                office_id=person.supervisee.office_id, delta=delta, event=event,
                                event_ref=f"test:{next(_refs)}", reason="test", now=self.clock())
            assert entry is not None
            db.session.commit()

    def item(self, office: Office, *, name: str = "洗衣液", cost: int = 10, stock: int = 5,
             monthly_limit: int | None = None, active: bool = True) -> int:
        """An item of the office's mall; its id."""
        return self._save(MallItem(office_id=office.id, name=name, description="", cost=cost, stock=stock,
                                   monthly_limit=monthly_limit, active=active, created_at=self.clock(),
                                   updated_at=self.clock())).id

    def add(self, *rows) -> None:
        """Save ``rows`` (model objects) in one transaction."""
        with self.app.app_context():
            db.session.add_all(rows)
            db.session.commit()

    # --- scenes ------------------------------------------------------------------------------------

    def scene(self, level: str = "normal", *, station: bool = False, other: str | None = None,
              officer_login: bool = False, phone: bool = True, zone: dict | None = None) -> Scene:
        """An office, its officer and a supervisee of ``level``; with ``station`` the office's station
        (the default place, radius 100 m), with ``other`` a second supervisee of that level. Then,
        in this order: the officer logged in (``officer_login``: the clock moves 30 s), the
        supervisee logged in on their phone (``phone``), and ``zone`` set as their permitted area."""
        office = self.office()
        officer = self.officer(office)
        station_row = self.station(office) if station else None
        person = self.supervisee(office, officer.officer, level=level)
        other_person = self.supervisee(office, officer.officer, level=other) if other else None
        scene = Scene(office, officer, person, station_row, other_person)
        if officer_login:
            scene.headers = self.auth.officer(officer)
        if phone:
            scene.phone = self.auth.supervisee(person)
        if zone is not None:
            assert scene.headers is not None, "an officer sets the permitted area: log them in"
            self.zone(scene, zone)
        return scene

    def zone(self, scene: Scene, geometry: dict, *, kind: str = "permitted", name: str = "辖区") -> int:
        """A zone of the scene's supervisee, set by its officer through the API; its id."""
        response = add_zone(self.auth.client, scene.headers, scene.person_id, kind, name, geometry)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def org(self, level: str = "normal", *, other: str | None = None, logins: bool = False) -> Org:
        """The two bureaus of :class:`Org`; ``person`` is of ``level``, ``other`` (a second supervisee of
        the officer) of that level if given; with ``logins`` the officer and then the supervisor log in."""
        bureau = self.bureau()
        office = self.office(bureau, name="城中街道司法所")
        sister_office = self.office(bureau, name="城东街道司法所")
        other_bureau = self.bureau(name="兰溪市司法局")
        foreign_office = self.office(other_bureau, name="云山街道司法所")
        officer, sister_officer = self.officer(office), self.officer(sister_office)
        supervisor = self.officer(role="supervisor", bureau_id=bureau.id)
        foreign_supervisor = self.officer(role="supervisor", bureau_id=other_bureau.id)
        person = self.supervisee(office, officer.officer, level=level)
        other_person = self.supervisee(office, officer.officer, level=other) if other else None
        sister_person = self.supervisee(sister_office, sister_officer.officer)
        foreign_officer = self.officer(foreign_office)
        foreign_person = self.supervisee(foreign_office, foreign_officer.officer)
        org = Org(bureau, office, sister_office, other_bureau, foreign_office, officer, sister_officer, supervisor,
                  foreign_supervisor, person, sister_person, foreign_officer, foreign_person, other_person)
        if logins:
            org.headers, org.supervisor_headers = self.auth.officer(officer), self.auth.officer(supervisor)
        return org

    def report_week(self) -> ReportWeek:
        """Build the week described in :class:`ReportWeek`; leave the clock on Tue 1 Dec 10:00 local."""
        self.clock.set(ENROLLED)
        bureau = self.bureau("金华市婺城区司法局")
        office = self.office(bureau, name="城中街道司法所")
        office_b = self.office(bureau, name="江南街道司法所")
        other_office = self.office(self.bureau("金华市金东区司法局"), name="西城街道司法所")
        officer, officer_b = self.officer(office), self.officer(office_b)
        supervisor = self.officer(role="supervisor", bureau_id=bureau.id)
        zhang = self.supervisee(office, officer.officer, level="strict", name="张三").supervisee
        li = self.supervisee(office, officer.officer, level="normal", name="李四").supervisee
        wang = self.supervisee(office, officer.officer, level="strict", name="王五").supervisee
        zhao = self.supervisee(office_b, officer_b.officer, level="normal", name="赵六").supervisee
        sun = self.supervisee(other_office, level="strict", name="孙九").supervisee
        self.clock.set(AFTER_THE_WEEK)

        with self.app.app_context():
            s = db.session
            rows: list = []
            # --- W48 check-ins and misses -------------------------------------------------------------
            for day in range(5):
                rows.append(checkin_row(zhang, "remote", closes(day), f"remote:2026-11-{23 + day}"))
            rows += [missed_row(zhang, "remote", closes(5), "remote:2026-11-28"),
                     missed_row(zhang, "remote", closes(6), "remote:2026-11-29"),
                     missed_row(zhang, "station", closes(6), "station:2026-11-23")]
            rows.append(checkin_row(zhang, "remote", None, None, outcome="refused", refusal_code="too_far",
                                    received_at=local(2026, 11, 24, 9)))
            rows.append(checkin_row(li, "remote", closes(6), "remote:2026-11-23"))
            for day in (0, 1, 3, 4, 5, 6):
                rows.append(checkin_row(wang, "remote", closes(day), f"remote:2026-11-{23 + day}"))
            rows.append(missed_row(wang, "remote", closes(2), "remote:2026-11-25"))
            rows.append(checkin_row(wang, "station", closes(6), "station:2026-11-23",
                                    received_at=local(2026, 11, 26, 15)))
            rows.append(checkin_row(zhao, "remote", closes(6), "remote:2026-11-23"))
            rows += [checkin_row(sun, "remote", closes(0), "remote:2026-11-23"),
                     missed_row(sun, "remote", closes(1), "remote:2026-11-24")]
            # --- W47: the week before ---------------------------------------------------------------
            for day in range(7):
                rows.append(checkin_row(zhang, "remote", closes(day, PREVIOUS_MONDAY),
                                        f"remote:2026-11-{16 + day}"))
            rows.append(missed_row(zhang, "station", closes(6, PREVIOUS_MONDAY), "station:2026-11-16"))
            rows.append(checkin_row(li, "remote", closes(6, PREVIOUS_MONDAY), "remote:2026-11-16"))
            rows.append(checkin_row(zhang, "remote", None, None, outcome="refused", refusal_code="too_far",
                                    received_at=local(2026, 11, 17, 9)))
            # --- alerts -------------------------------------------------------------------------------
            rows += [
                alert_row(zhang, "missed_checkin", closes(5) + timedelta(minutes=5), ack_minutes=10),
                alert_row(zhang, "missed_checkin", closes(6) + timedelta(minutes=5), ack_minutes=90,
                          key="remote:2026-11-29"),
                alert_row(zhang, "missed_checkin", closes(6) + timedelta(minutes=5), key="station:2026-11-23"),
                alert_row(zhang, "missed_spot_check", local(2026, 11, 26, 15, 20), ack_minutes=45,
                          resolved_minutes=60),
                alert_row(zhang, "zone_exit", local(2026, 11, 24, 11), severity="high"),
                alert_row(wang, "missed_checkin", closes(2) + timedelta(minutes=5), ack_minutes=30),
                alert_row(wang, "zone_exit", local(2026, 11, 27, 9), severity="high", ack_minutes=20,
                          resolved_minutes=40),
                alert_row(wang, "signal_lost", local(2026, 11, 19, 9), severity="low"),
                alert_row(zhang, "missed_checkin", closes(6, PREVIOUS_MONDAY) + timedelta(minutes=5),
                          ack_minutes=60, resolved_minutes=120),
                alert_row(sun, "missed_checkin", closes(1) + timedelta(minutes=5), severity="high"),
            ]
            # --- spot checks ----------------------------------------------------------------------------
            rows += [spot_row(zhang, officer.officer.id, local(2026, 11, 24, 10), "answered"),
                     spot_row(zhang, officer.officer.id, local(2026, 11, 26, 15), "missed"),
                     spot_row(li, officer.officer.id, local(2026, 11, 25, 11), "answered"),
                     spot_row(li, officer.officer.id, local(2026, 12, 1, 9), "answered")]  # next week
            # --- location fixes -------------------------------------------------------------------------
            rows += [fix_row(zhang, MONDAY + timedelta(hours=h, minutes=m)) for h in range(42) for m in (0, 30)]
            rows += [fix_row(zhang, MONDAY - timedelta(hours=1)), fix_row(zhang, WEEK_END + timedelta(hours=1))]
            rows += [fix_row(li, MONDAY + timedelta(hours=h)) for h in range(0, 168, 2)]
            rows += [fix_row(wang, MONDAY + timedelta(hours=h, minutes=15)) for h in range(126)]
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
        return ReportWeek(bureau, office, office_b, other_office, officer, officer_b, supervisor,
                          zhang, li, wang, zhao, sun)


class Auth:
    """Logs officers and supervisees in through the API and returns their headers."""

    def __init__(self, client, clock):
        self.client, self.clock = client, clock

    def officer_login(self, login: OfficerLogin, totp: str | None = None, password: str | None = None):
        code = totp or pyotp.TOTP(login.totp_secret).at(self.clock())
        return self.client.post(f"{API}/auth/officer/login", json={
            "username": login.officer.username, "password": password or login.password, "totp": code})

    def officer(self, login: OfficerLogin) -> dict[str, str]:
        response = self.officer_login(login)
        assert response.status_code == 200, response.get_json()
        # the next login of this officer needs a fresh TOTP step
        self.clock.advance(seconds=30)
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    def supervisee_login(self, login: SuperviseeLogin, device_id: str | None = None,
                         password: str | None = None):
        return self.client.post(f"{API}/auth/supervisee/login", json={
            "phone": login.supervisee.phone, "password": password or login.password,
            "device_id": device_id or login.device_id})

    def supervisee(self, login: SuperviseeLogin) -> dict[str, str]:
        response = self.supervisee_login(login)
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}


# --- rows as the jobs and the phone leave them, unsaved (make.add saves them) ----------------------

def checkin_row(person, kind: str, closes_at: datetime, key: str, outcome: str = "accepted", **extra) -> Checkin:
    """A check-in of ``person`` (a Supervisee) for the window ``key``, received 3 h before it closes."""
    received_at = extra.pop("received_at", None) or closes_at - timedelta(hours=3)
    return Checkin(supervisee_id=person.id, office_id=person.office_id, kind=kind, outcome=outcome,
                   window_key=key, window_closes_at=closes_at, received_at=received_at,
                   lat=29.08, lon=119.65, accuracy_m=10.0, **extra)


def missed_row(person, kind: str, closes_at: datetime, key: str,
               detected_at: datetime | None = None) -> MissedWindow:
    """A window the sweep found missed (5 minutes after it closed, unless ``detected_at``)."""
    return MissedWindow(supervisee_id=person.id, office_id=person.office_id, kind=kind, window_key=key,
                        closes_at=closes_at, detected_at=detected_at or closes_at + timedelta(minutes=5),
                        alerted=True)


def alert_row(person, type_: str, raised_at: datetime, *, severity: str = "medium",
              ack_minutes: float | None = None, resolved_minutes: float | None = None,
              key: str | None = None) -> Alert:
    """An alert raised at ``raised_at``, acknowledged and resolved (excused) so many minutes later."""
    acknowledged = None if ack_minutes is None else raised_at + timedelta(minutes=ack_minutes)
    resolved = None if resolved_minutes is None else raised_at + timedelta(minutes=resolved_minutes)
    status = "resolved" if resolved else "acknowledged" if acknowledged else "open"
    return Alert(supervisee_id=person.id, office_id=person.office_id, type=type_, severity=severity,
                 subject_key=key or f"{type_}:{raised_at.isoformat()}", evidence={}, status=status,
                 raised_at=raised_at, acknowledged_at=acknowledged, resolved_at=resolved,
                 outcome="excused" if resolved else None)


def fix_row(person, at: datetime, received_at: datetime | None = None) -> LocationFix:
    """A stored fix taken at ``at`` (received then too, unless ``received_at``)."""
    return LocationFix(supervisee_id=person.id, recorded_at=at, received_at=received_at or at, lat=29.08,
                       lon=119.65, accuracy_m=10.0, is_mock=False, source="app")


def spot_row(person, officer_id: int, requested_at: datetime, status: str) -> SpotCheck:
    """A spot check asked at ``requested_at`` (15 minutes to answer; answered after 5 if so)."""
    return SpotCheck(supervisee_id=person.id, office_id=person.office_id, requested_by=officer_id,
                     requested_at=requested_at, due_at=requested_at + timedelta(minutes=15), status=status,
                     answered_at=requested_at + timedelta(minutes=5) if status == "answered" else None)


def post_points(session, person, delta: int, event: str, ref: str, at: datetime) -> None:
    """Post a ledger line through the one points service, in ``session`` (not committed)."""
    assert points.post(session, supervisee_id=person.id, office_id=person.office_id, delta=delta, event=event,
                       event_ref=ref, reason="test", now=at) is not None


# --- requests the tests send, as the apps send them; each returns the response -----------------------

def fix(at: datetime, point: tuple[float, float], accuracy: float = 10.0, **extra) -> dict:
    """One fix as the phone reports it."""
    return {"recorded_at": iso_z(at), "lat": point[0], "lon": point[1], "accuracy_m": accuracy, **extra}


def walk(start: datetime, points, minutes: float = 1.0, accuracy: float = 10.0, **extra) -> list[dict]:
    """Fixes at ``points``, one every ``minutes`` from ``start``."""
    return [fix(start + timedelta(minutes=minutes * i), p, accuracy, **extra) for i, p in enumerate(points)]


def upload(client, phone, fixes):
    """A batch of fixes from the supervisee's phone; the response."""
    return client.post(f"{API}/me/locations", headers=phone, json={"fixes": fixes})


def add_zone(client, headers, person_id, kind, name, geometry):
    """A zone for the supervisee, as an officer (``headers``) sends it; the response."""
    return client.post(f"{API}/supervisees/{person_id}/zones", headers=headers,
                       json={"kind": kind, "name": name, "geometry": geometry})


def station_code(station: Station, at: datetime) -> str:
    """The text the station's screen shows at ``at``."""
    return qr.station_token(station.qr_secret, station.id, at, 30)[0]


def post_checkin(client, headers, kind: str, *, recorded_at: datetime, qr_text: str | None = None,
                 lat: float = STATION_LAT, lon: float = STATION_LON, accuracy_m: float = 10.0,
                 is_mock: bool = False):
    """A check-in from the supervisee's phone (``headers``); the response."""
    body = {"kind": kind, "lat": lat, "lon": lon, "accuracy_m": accuracy_m,
            "recorded_at": iso_z(recorded_at), "is_mock": is_mock}
    if qr_text is not None:
        body["qr"] = qr_text
    return client.post(CHECKINS, json=body, headers=headers)


def new_key() -> str:
    """A fresh, well-formed Idempotency-Key."""
    return f"key-{next(_keys):08d}"


def redeem(client, phone: dict, item_id: int, key: str | None = None):
    """Redeem an item from the supervisee's phone, with a fresh Idempotency-Key unless ``key``; the response."""
    return client.post(MY_ORDERS, json={"item_id": item_id},
                       headers={**phone, "Idempotency-Key": key or new_key()})


def get_report(client, headers, fmt: str = "json", **params):
    """The weekly report of 2026-W48 (unless ``week``) in ``fmt``, as ``headers`` may read it."""
    query = "&".join(f"{k}={v}" for k, v in {"week": "2026-W48", "format": fmt, **params}.items() if v is not None)
    return client.get(f"{API}/reports/weekly?{query}", headers=headers)


def enrolment(**overrides) -> dict:
    """The body of ``POST /supervisees`` for a valid new supervisee, with ``overrides``."""
    body = {"name": "张伟", "national_id": valid_national_id(), "phone": "13712345678",
            "initial_password": "first-password", "sentence_type": "probation",
            "supervision_start": "2026-11-01", "supervision_end": "2027-10-31", "level": "normal"}
    body.update(overrides)
    return body
