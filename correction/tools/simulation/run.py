"""Play the simulated week: a real HTTP server, a clock the simulation drives, phones and officers."""
from __future__ import annotations

import heapq
import logging
import os
import json
import random
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import pyotp
import sqlalchemy as sa
from werkzeug.serving import make_server

from ...app import create_app
from ...config import Settings
from ...database import db
from ...people.models import Supervisee
from ..seed import seed_demo
from ...time import iso_z
from .client import Http
from .plan import Planner
from .score import scorecard
from .world import Breach, Person, assign_behaviours, home_near

START = datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)  # Monday 2026-11-23 07:00 in Shanghai
STEP = timedelta(minutes=5)
JOBS_EVERY = {"missed_checkins": 1, "missed_spot_checks": 1, "signal_lost": 1, "escalate_alerts": 1,
              "missed_checkin_penalties": 1, "leave_overdue": 6, "window_reminders": 6}


class SimClock:
    """The one clock of the simulated app; only the simulation moves it."""

    def __init__(self, start: datetime):
        self._now, self._lock = start, threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, value: datetime) -> None:
        with self._lock:
            self._now = value


@dataclass
class SimConfig:
    days: int = 7
    supervisees: int = 421
    seed: int = 1
    database_url: str | None = None
    out_dir: str = "instance/simulation"
    fast_hashing: bool = False


def simulate(config: SimConfig, progress: Callable[[int], None] | None = None) -> dict:
    """Run the simulation and return the scorecard (also written to out_dir with the PDF report)."""
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    database_url = config.database_url or f"sqlite:///{(out / 'simulation.db').resolve()}"
    if database_url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(database_url[len("sqlite:///"):] + suffix).unlink(missing_ok=True)
    # its clock outruns real time, by which the rate limits count: every phone would be held back
    overrides = dict(DATABASE_URL=database_url, RATELIMIT_ENABLED=False, LOG_LEVEL="WARNING",
                     SCHEDULER_LOCK_FILE=str(out / "scheduler.lock"))
    if not (os.environ.get("CORRECTION_SECRET_KEY") or os.environ.get("SECRET_KEY")):
        # A fresh database each run, so a fresh key: nothing signed or hashed outlives the run.
        overrides["SECRET_KEY"] = secrets.token_urlsafe(48)
    if config.fast_hashing:
        overrides.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST_KIB=1024, ARGON2_PARALLELISM=1)
    settings = Settings.from_env(**overrides)
    if settings.ENV == "production":
        raise RuntimeError("the simulation drives the clock; it never runs in production")
    clock = SimClock(START)
    app = create_app(settings, clock=clock)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        logins = seed_demo(db.session, settings, app.extensions["correction.hasher"], clock(), count=config.supervisees)
        db.session.commit()
        supervision = {p.id: p for p in db.session.execute(sa.select(Supervisee)).scalars()}
        for p in supervision.values():
            db.session.expunge(p)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per simulated request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        world = World(app, settings, clock, Http("127.0.0.1", server.server_port), logins, supervision, config)
        world.play(progress)
        result = scorecard(app, world, config)
        pdf = world.http_raw("/reports/weekly?week=2026-W48&format=pdf", world.supervisor())
        (out / "weekly-report.pdf").write_bytes(pdf)
        result["report_pdf"] = str(out / "weekly-report.pdf")
        (out / "scorecard.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
        return result
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


class World:
    """Phones, officers and the scheduler, acting on the simulated clock."""

    def __init__(self, app, settings, clock: SimClock, http: Http, logins, supervision, config: SimConfig):
        self.app, self.settings, self.clock, self.http, self.config = app, settings, clock, http, config
        self.rng = random.Random(config.seed)
        self.start, self.end = START, START + timedelta(days=config.days)
        self.officers = {o["office_id"]: o for o in logins.officers if o["role"] == "officer"}  # one per office
        self.supervisor_login = next(o for o in logins.officers if o["role"] == "supervisor")
        self.tokens: dict[str, str] = {}
        self.stations = {s["office_id"]: s for s in logins.stations}
        self.supervision = supervision
        self.counts = {"fixes_sent": 0, "fixes_stored": 0, "checkins_sent": 0, "checkins_accepted": 0,
                       "valid_checkins_refused": 0, "spot_checks": 0, "orders": 0}
        self.timing = {"fixes": 0.0, "checkins": 0.0}
        self.refusals: list[str] = []
        self.planner = Planner(settings, self.start, self.end, self.rng)
        self.people = self._people(logins)

    # --- set-up -----------------------------------------------------------------------------
    def _people(self, logins) -> list[Person]:
        exclusion_holders, zones = set(), {}
        for row in logins.supervisees:
            status, body = self.http.call("GET", f"/supervisees/{row['id']}/zones", token=self.officer(row["office_id"]))
            for zone in (body or {}).get("items", []):
                if zone["kind"] == "exclusion":
                    exclusion_holders.add(row["id"])
                    zones[row["id"]] = zone["geometry"]
        avoid = [(g["center"][1], g["center"][0]) for g in zones.values()]
        behaviours = assign_behaviours(logins.supervisees, self.stations, self.rng, exclusion_holders)
        people = []
        for row, behaviour in zip(logins.supervisees, behaviours):
            rng = random.Random(self.rng.random())
            person = Person(id=row["id"], phone=row["phone"], password=row["password"], device_id=row["device_id"],
                            office_id=row["office_id"], level=row["level"],
                            home=home_near(self.stations[row["office_id"]], rng, avoid),
                            station=self.stations[row["office_id"]], behaviour=behaviour,
                            # OwnTracks reports no mock flag, so mocked GPS is only seen from the app or OsmAnd
                            channel=("app" if behaviour == "mock_gps" else
                                     rng.choices(["app", "osmand", "owntracks"], [0.7, 0.15, 0.15])[0]), rng=rng,
                            exclusion_zone=zones.get(row["id"]))
            status, body = self.http.call("POST", "/auth/supervisee/login", body={
                "phone": person.phone, "password": person.password, "device_id": person.device_id})
            person.token = body["token"]
            if person.channel != "app":
                status, body = self.http.call("POST", "/me/ingest-key", token=person.token)
                person.ingest_key = body["ingest_key"]
            person.last_upload = self.start - person.upload_every() + timedelta(minutes=rng.randrange(0, 60, 5))
            self.planner.plan_person(person, self.supervision[person.id])
            people.append(person)
        self.planner.plan_spot_checks(people, per_day=max(1, len(people) // 40))
        for office_id in self.officers:
            self.http.call("POST", "/mall/items", token=self.officer(office_id),
                           body={"name": "洗衣液 detergent", "cost": 5, "stock": 3, "monthly_limit": 1})
        return people

    def officer(self, office_id: int) -> str:
        return self._login(f"office:{office_id}", self.officers[office_id])

    def supervisor(self) -> str:
        return self._login("supervisor", self.supervisor_login)

    def _login(self, key: str, login: dict) -> str:
        token = self.tokens.get(key)
        if token is not None:
            status, _ = self.http.call("GET", "/me", token=token)
            if status == 200:
                return token
        code = pyotp.TOTP(login["totp_secret"]).at(self.clock())
        status, body = self.http.call("POST", "/auth/officer/login", body={
            "username": login["username"], "password": login["password"], "totp": code})
        if status != 200:
            raise RuntimeError(f"officer login failed: {status} {body}")
        self.tokens[key] = body["token"]
        return body["token"]

    def http_raw(self, path: str, token: str) -> bytes:
        import http.client

        conn = http.client.HTTPConnection(self.http.host, self.http.port, timeout=120)
        try:
            conn.request("GET", "/api/v1" + path, headers={"Authorization": f"Bearer {token}"})
            return conn.getresponse().read()
        finally:
            conn.close()

    def behaviour_of(self, supervisee_id: int) -> str:
        return next((p.behaviour for p in self.people if p.id == supervisee_id), "?")

    def behaviour_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for person in self.people:
            counts[person.behaviour] = counts.get(person.behaviour, 0) + 1
        return counts

    # --- the loop ---------------------------------------------------------------------------
    def play(self, progress) -> None:
        from jobs.runner import run_job
        from jobs.schedule import schedule

        specs = {s.id: s for s in schedule(self.settings)}
        events = list(self.planner.events)
        heapq.heapify(events)
        t, step, last_day = self.start, 0, 0
        while t <= self.end:
            self.clock.set(t)
            while events and events[0].at <= t:
                self.act(heapq.heappop(events), events)
            for person in self.people:
                if t - person.last_upload >= person.upload_every():
                    self.upload(person, t)
            if step % 6 == 0:
                self.officers_work()
            for job, every in JOBS_EVERY.items():
                if step % every == 0:
                    run = run_job(self.app, specs[job])
                    if run is None or not run.ok:
                        self.http.server_errors.append(f"job {job} failed: {run.error if run else 'unrecorded'}")
            day = int((t - self.start) / timedelta(days=1))
            if progress and day != last_day:
                progress(day - last_day)
                last_day = day
            t += STEP
            step += 1
        if progress and last_day < self.config.days:
            progress(self.config.days - last_day)

    def act(self, event, queue) -> None:
        person, t = event.person, event.at
        if event.kind in ("remote_checkin", "station_checkin"):
            self.check_in(person, t, "station" if event.kind == "station_checkin" else "remote",
                          from_home=event.data.get("from_home", False))
        elif event.kind == "spot_check":
            status, body = self.http.call("POST", "/spot-checks", token=self.officer(person.office_id),
                                          body={"supervisee_id": person.id})
            if status != 201:
                return
            self.counts["spot_checks"] += 1
            due = datetime.fromisoformat(body["due_at"].replace("Z", "+00:00"))
            if event.data["answers"]:
                heapq.heappush(queue, type(event)(t + timedelta(minutes=5), event.order, "spot_answer", person, {}))
            else:
                self.planner.breaches.append(Breach(person.id, "missed_spot_check", due, subject=f"spot:{body['id']}"))
        elif event.kind == "spot_answer":
            self.check_in(person, t, "spot")
        elif event.kind == "request_leave":
            status, body = self.http.call("POST", "/me/leave-requests", token=person.token, body={
                "destination_name": "杭州", "reason": "就医 hospital visit",
                "destination_geometry": {"type": "Circle", "center": [120.1551, 30.2741], "radius_m": 30000},
                "start_at": iso_z(event.data["start_at"]), "end_at": iso_z(event.data["end_at"])})
            if status == 201:
                person.leave_id = body["id"]
                self.http.call("POST", f"/leave-requests/{body['id']}/approve", token=self.officer(person.office_id),
                               body={"note": "同意 approved"})

    def check_in(self, person: Person, t: datetime, kind: str, from_home: bool = False) -> None:
        if not person.phone_on(t):
            return
        position = person.position(t)
        if kind == "station" and not from_home:
            position = (person.station["lat"] + 0.0002, person.station["lon"])
        fix = person.fix(t)
        body = {"kind": kind, "lat": fix["lat"] if kind != "station" or from_home else position[0],
                "lon": fix["lon"] if kind != "station" or from_home else position[1],
                "accuracy_m": fix["accuracy_m"], "recorded_at": iso_z(t - timedelta(seconds=20)),
                "is_mock": fix["is_mock"]}
        if kind == "station":
            status, qr = self.http.call("GET", f"/stations/{person.station['id']}/qr", token=self.officer(person.office_id))
            body["qr"] = qr["token"]
        began = time.perf_counter()
        status, answer = self.http.call("POST", "/me/checkins", token=person.token, body=body)
        self.timing["checkins"] += time.perf_counter() - began
        self.counts["checkins_sent"] += 1
        if status in (200, 201):
            self.counts["checkins_accepted"] += 1
            if person.behaviour == "compliant" and self.rng.random() < 0.05 and self.counts["orders"] < 20:
                self.redeem(person)
        elif not from_home and not fix["is_mock"] and t.astimezone(self.planner.zone).hour < 20:
            self.counts["valid_checkins_refused"] += 1
            self.refusals.append(f"{person.id} {kind} at {iso_z(t)}: {status} {answer}")

    def redeem(self, person: Person) -> None:
        status, body = self.http.call("GET", "/mall/items", token=person.token)
        items = (body or {}).get("items") or []
        if items:
            key = f"sim-{person.id}-{self.counts['orders']}"
            status, _ = self.http.call("POST", "/me/orders", token=person.token, body={"item_id": items[0]["id"]},
                                       headers={"Idempotency-Key": key})
            self.counts["orders"] += status == 201

    def upload(self, person: Person, t: datetime) -> None:
        since = person.last_upload
        person.last_upload = t
        if not person.phone_on(t):
            return
        moments = [since + timedelta(minutes=15 * i) for i in range(1, int((t - since) / timedelta(minutes=15)) + 1)]
        fixes = [person.fix(m) for m in moments if person.phone_on(m)]
        if not fixes:
            return
        began = time.perf_counter()
        if person.channel == "app":
            status, body = self.http.call("POST", "/me/locations", token=person.token, body={"fixes": [
                {**f, "recorded_at": iso_z(f["recorded_at"])} for f in fixes]})
            self.counts["fixes_stored"] += (body or {}).get("stored", 0)
        elif person.channel == "osmand":
            for f in fixes:
                form = {"id": person.ingest_key, "lat": f["lat"], "lon": f["lon"], "accuracy": f["accuracy_m"],
                        "timestamp": int(f["recorded_at"].timestamp()), "batt": f["battery"], "speed": 0.5}
                if f["is_mock"]:
                    form["mock"] = "true"
                status, _ = self.http.call("POST", "/ingest/osmand", form=form)
                self.counts["fixes_stored"] += status == 200
        else:
            for f in fixes:
                message = {"_type": "location", "lat": f["lat"], "lon": f["lon"], "acc": f["accuracy_m"],
                           "tst": int(f["recorded_at"].timestamp()), "batt": f["battery"]}
                status, _ = self.http.call("POST", "/ingest/owntracks", body=message, headers=self.http.basic(person.ingest_key))
                self.counts["fixes_stored"] += status == 200
        self.timing["fixes"] += time.perf_counter() - began
        self.counts["fixes_sent"] += len(fixes)

    def officers_work(self) -> None:
        """Each office's officer acknowledges new alerts and resolves those acknowledged an hour ago."""
        now = self.clock()
        for office_id in self.officers:
            token = self.officer(office_id)
            status, body = self.http.call("GET", "/alerts?status=open&limit=200", token=token)
            for alert in (body or {}).get("items", []):
                self.http.call("POST", f"/alerts/{alert['id']}/acknowledge", token=token)
            status, body = self.http.call("GET", "/alerts?status=acknowledged&limit=200", token=token)
            for alert in (body or {}).get("items", []):
                acknowledged = datetime.fromisoformat(alert["acknowledged_at"].replace("Z", "+00:00"))
                if now - acknowledged >= timedelta(hours=1):
                    self.http.call("POST", f"/alerts/{alert['id']}/resolve", token=token,
                                   body={"outcome": "admonition", "note": "已谈话教育 talked it through"})
