"""Profile of ingest requests, in figures that do not depend on how loaded the machine is.

``ingest_http.py`` measures rates, which swing with whatever else the two cores run. This script
sends the same requests in process (Flask's test client, the app on PostgreSQL with the same 100
people and zones, the bare baseline app beside it) and counts, per request: SQL statements sent,
Python function calls (cProfile) and CPU time of this process (the server's share is not in it).
The first requests of each kind warm caches and are not counted; CPU time is measured
without the profiler, on as many requests again before the profiled ones.
Usage: .venv/bin/python benchmarks/ingest_profile.py [--requests 300] [--top 0]
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import SECRET_KEY, scratch_database  # noqa: E402
from benchmarks.ingest import build  # noqa: E402
from benchmarks.ingest_http import PEOPLE, create_bare_table  # noqa: E402

WARM = 250  # more than two fixes a device: the first two confirm where each person is


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=0, help="print the N functions of most own time per line")
    parser.add_argument("--sort", default="tottime", help="pstats order for --top (tottime, cumulative)")
    parser.add_argument("--only", help="profile only the lines whose label contains this")
    parser.add_argument("--dump", help="write each line's profile to DUMP.<line>.prof (for pstats, snakeviz)")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request per line")
    args = parser.parse_args()

    url = scratch_database("correction_bench_ingest_profile")
    tokens, keys = build(url, PEOPLE)
    create_bare_table(url)

    os.environ.update(DATABASE_URL=url, SECRET_KEY=SECRET_KEY, CORRECTION_RATELIMIT_ENABLED="false",
                      CORRECTION_LOG_LEVEL="WARNING")
    from benchmarks._bare_app import app as bare, engine as bare_engine
    from correction.app import create_app
    from correction.database import db

    app = create_app()
    with app.app_context():
        app_engine = db.engine
    ids = [person_id for person_id, _ in tokens]
    start = int(time.time()) - 10 * 86400
    client, bare_client = app.test_client(), bare.test_client()

    def osmand(n, bare_side=False):
        d = n % PEOPLE
        query = urlencode({"id": ids[d] if bare_side else keys[d], "lat": 29.06 + (n % 7) * 1e-5,
                           "lon": 119.61 + (n % 7) * 1e-5, "timestamp": start + n, "accuracy": 10, "speed": 2,
                           "batt": 70})
        answer = (bare_client if bare_side else client).get(("/bare/osmand?" if bare_side else
                                                              "/api/v1/ingest/osmand?") + query)
        assert answer.status_code == 200, answer.data

    def owntracks(n):
        d = n % PEOPLE
        basic = base64.b64encode(f"p:{keys[d]}".encode()).decode()
        answer = client.post("/api/v1/ingest/owntracks", headers={"Authorization": f"Basic {basic}"},
                             json={"_type": "location", "lat": 29.06 + (n % 7) * 1e-5, "lon": 119.61 + (n % 7) * 1e-5,
                                   "tst": start + 86400 + n, "acc": 10, "batt": 70, "vel": 7})
        assert answer.status_code == 200, answer.data

    def batch(n, bare_side=False):
        d = n % PEOPLE
        first = start + 2 * 86400 + (n // PEOPLE) * 100
        fixes = [{"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first + i)),
                  "lat": 29.05 + (i % 10) * 1e-5, "lon": 119.60 + (i % 7) * 1e-5, "accuracy_m": 12, "speed_mps": 1.2,
                  "battery": 80} for i in range(100)]
        if bare_side:
            answer = bare_client.post("/bare/batch", data=json.dumps({"supervisee_id": ids[d], "fixes": fixes}),
                                      content_type="application/json")
        else:
            answer = client.post("/api/v1/me/locations", data=json.dumps({"fixes": fixes}),
                                 content_type="application/json", headers={"Authorization": f"Bearer {tokens[d][1]}"})
        assert answer.status_code == 200 and answer.get_json()["stored"] == 100, answer.data

    lines = [("bare one insert", bare_engine, lambda n: osmand(n, True)),
             ("GET /ingest/osmand", app_engine, osmand),
             ("POST /ingest/owntracks", app_engine, owntracks),
             ("bare batch of 100", bare_engine, lambda n: batch(n, True)),
             ("POST /me/locations, 100", app_engine, batch)]
    print(f"{args.requests} requests each after {WARM} warm-up ones, in process, PostgreSQL")
    print("| request | statements | function calls | CPU ms (this process, client included) |")
    print("|---|---|---|---|")
    for label, engine_, send in lines:
        if args.only and args.only not in label:
            continue
        for n in range(WARM):
            send(n)
        cpu = time.process_time()
        for n in range(WARM, WARM + args.requests):
            send(n)
        cpu = time.process_time() - cpu
        statements = []
        listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
        sa.event.listen(engine_, "before_cursor_execute", listener)
        profile = cProfile.Profile()
        profile.enable()
        for n in range(WARM + args.requests, WARM + 2 * args.requests):
            send(n)
        profile.disable()
        sa.event.remove(engine_, "before_cursor_execute", listener)
        stats = pstats.Stats(profile)
        calls = stats.total_calls  # type: ignore[attr-defined]
        print(f"| {label} | {len(statements) / args.requests:.1f} | {calls / args.requests:,.0f} | "
              f"{1000 * cpu / args.requests:.2f} |")
        if args.sql:
            print("\n".join(" ".join(s.split())[:160] for s in statements[:len(statements) // args.requests]))
        if args.dump:
            stats.dump_stats(f"{args.dump}.{label.split()[1].strip('/').replace('/', '_')}.prof")
        if args.top:
            stats.sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
