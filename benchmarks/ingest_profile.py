"""Profile of ingest requests, in figures that do not depend on how loaded the machine is.

``ingest_http.py`` measures rates, which swing with whatever else the two cores run. This script
sends the same requests in process (Flask's test client, the app on PostgreSQL with the same 100
people and zones, the bare baseline app beside it) and counts, per request: SQL statements sent
(the hot paths' driver statements included), Python function
calls (cProfile) and CPU time of this process (the server's share is not in it). The first requests
of each kind warm caches and are not counted; CPU time is measured without the profiler, in rounds
that take turns between the lines, and each line's CPU is also given as a ratio to its baseline's in
the same round (the median of those): the figure to compare between two versions of the code.
Usage: .venv/bin/python benchmarks/ingest_profile.py [--requests 300] [--rounds 5] [--top 0]
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import json
import os
import pstats
import statistics
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
    parser.add_argument("--rounds", type=int, default=5)
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
    ids = [person_id for person_id, _ in tokens]
    # One clock for every line, so that each person's fixes arrive in time order whichever line sends
    # them (an older fix than one evaluated is replayed, not the usual case this measures).
    clock = [int(time.time()) - 30 * 86400]

    def tick(seconds: int = 1) -> int:
        clock[0] += seconds
        return clock[0]
    client, bare_client = app.test_client(), bare.test_client()

    def osmand(n, bare_side=False):
        d = n % PEOPLE
        query = urlencode({"id": ids[d] if bare_side else keys[d], "lat": 29.06 + (n % 7) * 1e-5,
                           "lon": 119.61 + (n % 7) * 1e-5, "timestamp": tick(), "accuracy": 10, "speed": 2,
                           "batt": 70})
        answer = (bare_client if bare_side else client).get(("/bare/osmand?" if bare_side else
                                                              "/api/v1/ingest/osmand?") + query)
        assert answer.status_code == 200, answer.data

    def owntracks(n):
        d = n % PEOPLE
        basic = base64.b64encode(f"p:{keys[d]}".encode()).decode()
        answer = client.post("/api/v1/ingest/owntracks", headers={"Authorization": f"Basic {basic}"},
                             json={"_type": "location", "lat": 29.06 + (n % 7) * 1e-5, "lon": 119.61 + (n % 7) * 1e-5,
                                   "tst": tick(), "acc": 10, "batt": 70, "vel": 7})
        assert answer.status_code == 200, answer.data

    def batch(n, bare_side=False):
        d = n % PEOPLE
        first = tick(100)
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

    with app.app_context():
        app_engine = db.engine
    # (label, its engine, the line it is compared with, how to send request n)
    lines = [("bare one insert", bare_engine, None, lambda n: osmand(n, True)),
             ("GET /ingest/osmand", app_engine, 0, osmand),
             ("POST /ingest/owntracks", app_engine, 0, owntracks),
             ("bare batch of 100", bare_engine, None, lambda n: batch(n, True)),
             ("POST /me/locations, 100", app_engine, 3, batch)]
    chosen = [i for i, line in enumerate(lines) if not args.only or args.only in line[0]]
    chosen = sorted(set(chosen) | {lines[i][2] for i in chosen if lines[i][2] is not None})  # with baselines
    sent = dict.fromkeys(chosen, 0)

    def run(i: int, count: int) -> None:
        for _ in range(count):
            lines[i][3](sent[i])
            sent[i] += 1

    for i in chosen:
        run(i, WARM)
    cpu: dict[int, list[float]] = {i: [] for i in chosen}
    for _ in range(args.rounds):  # interleaved, so that a slow spell of the machine hits every line
        for i in chosen:
            started = time.process_time()
            run(i, args.requests)
            cpu[i].append(1000 * (time.process_time() - started) / args.requests)
    print(f"{args.requests} requests a line in each of {args.rounds} interleaved rounds, after {WARM} warm-up "
          "ones; in process, PostgreSQL; CPU is the median round's, ratios are medians of each round's")
    print("| request | statements | function calls | CPU ms (this process, client included) | CPU against |")
    print("|---|---|---|---|---|")
    for i in chosen:
        label, engine, against, _ = lines[i]
        statements = []
        listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        profile = cProfile.Profile()
        profile.enable()
        run(i, args.requests)
        profile.disable()
        sa.event.remove(engine, "before_cursor_execute", listener)
        stats = pstats.Stats(profile)
        calls = stats.total_calls  # type: ignore[attr-defined]
        ratio = "—" if against is None else \
            f"{statistics.median(a / b for a, b in zip(cpu[i], cpu[against])):.2f}× {lines[against][0]}"
        print(f"| {label} | {len(statements) / args.requests:.1f} | {calls / args.requests:,.0f} | "
              f"{statistics.median(cpu[i]):.2f} | {ratio} |")
        if args.sql:
            print("\n".join(" ".join(s.split())[:160] for s in statements[:len(statements) // args.requests]))
        if args.dump:
            stats.dump_stats(f"{args.dump}.{label.split()[1].strip('/').replace('/', '_')}.prof")
        if args.top:
            stats.sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
