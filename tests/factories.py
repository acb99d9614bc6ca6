"""The one builder of test data: rows, whole scenes, and a helper that logs people in through the API.

``make`` (a :class:`Factory`) builds committed rows and, from them, the scenes tests act on, each a
small dataclass with named fields; ``auth`` (an :class:`Auth`) logs officers and supervisees in.
"""
from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
from geopy.distance import geodesic

from correction.checkins import qr
from correction.database import db
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


# --- time and place ----------------------------------------------------------------------------------

def local(year, month, day, hour=0, minute=0, second=0) -> datetime:
    """A moment given in Shanghai wall-clock time, as aware UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI).astimezone(UTC)


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


def point_at(metres: float, bearing: float = 90.0, origin=STATION) -> tuple[float, float]:
    """The point ``metres`` away from ``origin`` along ``bearing`` (geodesic, WGS-84)."""
    there = geodesic(meters=metres).destination(origin, bearing)
    return there.latitude, there.longitude


def valid_national_id(n: int | None = None) -> str:
    """Return a national ID number with a correct check character."""
    n = next(_seq) if n is None else n
    first17 = f"330702198{(n // 1000) % 10}0101{n % 1000:03d}"
    return first17 + national_id_check_char(first17)


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
                                    active=True, created_at=self.clock()))
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


# --- requests the tests send, as the apps send them ----------------------------------------------

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
