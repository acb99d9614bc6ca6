"""The demo district: Wucheng district, Jinhua — a bureau, five offices, 421 supervisees."""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher

from ..security import hash_national_id, national_id_check_char
from ..locations.models import Zone
from ..people.models import Bureau, Office, Officer, Station, Supervisee

BUREAU = ("jinhua-wucheng", "金华市婺城区司法局")
# Judicial offices (司法所) of Wucheng district with their station coordinates.
OFFICES = [
    ("wc-chengzhong", "城中街道司法所", "城中街道报到点", 29.0833, 119.6490),
    ("wc-chengdong", "城东街道司法所", "城东街道报到点", 29.0921, 119.6668),
    ("wc-chengxi", "城西街道司法所", "城西街道报到点", 29.0862, 119.6271),
    ("wc-jiangnan", "江南街道司法所", "江南街道报到点", 29.0701, 119.6512),
    ("wc-xiguan", "西关街道司法所", "西关街道报到点", 29.0745, 119.6283),
]
SUPERVISEE_COUNT = 421
# The permitted area every demo supervisee gets: roughly Wucheng district (lon, lat).
DISTRICT = {"type": "Polygon", "coordinates": [[
    [119.42, 28.86], [119.58, 28.83], [119.74, 28.90], [119.77, 29.05], [119.72, 29.17],
    [119.58, 29.21], [119.45, 29.15], [119.40, 29.02], [119.42, 28.86]]]}
# Exclusion zones (禁止令) for some: around a primary school and an entertainment street.
EXCLUSIONS = [("禁止进入: 市第一小学周边", 119.6447, 29.0868, 250),
              ("禁止进入: 娱乐场所集中区", 119.6563, 29.0790, 300)]
OFFICER_PASSWORD = "Demo-officer-2026"
SUPERVISEE_PASSWORD = "Demo-phone-2026"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志明海燕红梅文斌浩宇子轩欣怡"


@dataclass
class DemoLogins:
    officers: list[dict]
    supervisees: list[dict]
    stations: list[dict]


def seed_demo(session, settings, hasher: PasswordHasher, now: datetime,
              count: int = SUPERVISEE_COUNT) -> DemoLogins:
    """Create the demo district (``count`` supervisees) unless it exists; return the logins either way."""
    bureau = session.execute(sa.select(Bureau).where(Bureau.code == BUREAU[0])).scalar_one_or_none()
    if bureau is None:
        bureau = Bureau(code=BUREAU[0], name=BUREAU[1])
        session.add(bureau)
        session.flush()
        _create_district(session, settings, hasher, bureau, now, count)
    return _logins(session, bureau)


def _create_district(session, settings, hasher, bureau: Bureau, now: datetime, count: int) -> None:
    rng = random.Random(20261128)
    officer_hash = hasher.hash(OFFICER_PASSWORD)
    supervisee_hash = hasher.hash(SUPERVISEE_PASSWORD)

    def officer(username, name, role, office_id=None):
        person = Officer(bureau_id=bureau.id, office_id=office_id, username=username, name=name,
                         role=role, password_hash=officer_hash, totp_secret=pyotp.random_base32(),
                         totp_enrolled_at=now, active=True, created_at=now)
        session.add(person)
        return person

    officer("wc-supervisor", "督导员 周", "supervisor")
    officer("wc-admin", "管理员 吴", "admin")
    office_officers: list[list[Officer]] = []
    for code, name, station_name, lat, lon in OFFICES:
        office = Office(bureau_id=bureau.id, code=code, name=name)
        session.add(office)
        session.flush()
        session.add(Station(office_id=office.id, name=station_name, lat=lat, lon=lon, radius_m=150,
                            qr_secret=secrets.token_hex(32), active=True))
        office_officers.append([officer(f"{code}-officer{n}", f"{name[:2]}矫正专干{n}", "officer", office.id)
                                for n in (1, 2)])
    session.flush()

    levels = ["strict"] * 15 + ["normal"] * 60 + ["lenient"] * 25
    sentences = ["probation"] * 80 + ["parole"] * 10 + ["control"] * 6 + ["medical_parole"] * 4
    rows = []
    for n in range(count):
        staff = office_officers[n % len(OFFICES)]
        start = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 320))
        national_id = _demo_national_id(rng, n)
        rows.append(dict(
            office_id=staff[0].office_id, officer_id=staff[n % 2].id,
            name=rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
            phone=f"139579{n:05d}", password_hash=supervisee_hash,
            national_id_hash=hash_national_id(settings.SECRET_KEY, national_id),
            national_id_last4=national_id[-4:], sentence_type=rng.choice(sentences),
            supervision_start=start, supervision_end=start + timedelta(days=rng.choice((365, 540, 730, 1095))),
            level=rng.choice(levels), status="active", failed_logins=0, created_at=now, updated_at=now))
    ids = session.execute(sa.insert(Supervisee).returning(Supervisee.id, Supervisee.office_id), rows).all()
    zones = []
    for n, (person_id, office_id) in enumerate(ids):
        zones.append(dict(supervisee_id=person_id, office_id=office_id, kind="permitted",
                          name="婺城区 (活动范围)", geometry=DISTRICT, active=True, created_at=now))
        if n % 20 == 7:
            name, lon, lat, radius = EXCLUSIONS[n % 2]
            zones.append(dict(supervisee_id=person_id, office_id=office_id, kind="exclusion", name=name,
                              geometry={"type": "Circle", "center": [lon, lat], "radius_m": radius},
                              active=True, created_at=now))
    session.execute(sa.insert(Zone), zones)
    session.flush()


def _demo_national_id(rng: random.Random, n: int) -> str:
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45))
    first17 = f"330702{born:%Y%m%d}{n % 1000:03d}"
    return first17 + national_id_check_char(first17)


def _logins(session, bureau: Bureau) -> DemoLogins:
    officers = session.execute(sa.select(Officer).where(Officer.bureau_id == bureau.id)
                               .order_by(Officer.id)).scalars()
    offices = sa.select(Office.id).where(Office.bureau_id == bureau.id)
    people = session.execute(sa.select(Supervisee).where(Supervisee.office_id.in_(offices))
                             .order_by(Supervisee.id)).scalars()
    stations = session.execute(sa.select(Station).where(Station.office_id.in_(offices))
                               .order_by(Station.id)).scalars()
    return DemoLogins(
        officers=[{"username": o.username, "password": OFFICER_PASSWORD, "totp_secret": o.totp_secret,
                   "role": o.role, "office_id": o.office_id} for o in officers],
        supervisees=[{"id": p.id, "phone": p.phone, "password": SUPERVISEE_PASSWORD,
                      "device_id": f"demo-phone-{p.id}", "office_id": p.office_id, "level": p.level}
                     for p in people],
        stations=[{"id": s.id, "office_id": s.office_id, "lat": s.lat, "lon": s.lon,
                   "radius_m": s.radius_m} for s in stations],
    )
