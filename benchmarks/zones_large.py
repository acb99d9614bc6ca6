"""Benchmark: ingest with a county's boundary as the permitted area against the demo's small polygon, same run.

A real permitted area is a county or district boundary of thousands of vertices. What a fix costs
must not grow with it: the one-statement ingests leave out the geometry of the zones a process
already holds (``locations.shapes``), and a fix well inside is told inside without measuring its
distance to every segment (``ZoneShape``'s core). In process (Flask's test client) on PostgreSQL,
two groups of people take turns in interleaved rounds: one with the seed's nine-vertex district,
one with a 4,000-vertex boundary around the same place (both with the seed's exclusion circle).
Printed: CPU of this process and wall time per request for a single OsmAnd fix and a batch of 100,
and the large boundary's figures as ratios to the small one's (the server's share of the wall time
is PostgreSQL's sending and parsing, which is what leaving the geometry out saves).
Usage: .venv/bin/python benchmarks/zones_large.py [--requests 200] [--rounds 5] [--vertices 4000]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import SECRET_KEY, scratch_database  # noqa: E402
from benchmarks.ingest import build  # noqa: E402

PEOPLE = 40  # the first half keeps the small district, the second half gets the county


def county(vertices: int) -> dict:
    """A wavy ring of ``vertices`` around the district's centre, some 35 km across."""
    ring = [[119.6 + 0.17 * math.cos(2 * math.pi * i / vertices) * (1 + 0.02 * math.sin(37 * i)),
             29.02 + 0.17 * math.sin(2 * math.pi * i / vertices) * (1 + 0.02 * math.sin(37 * i))]
            for i in range(vertices)]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--vertices", type=int, default=4000)
    args = parser.parse_args()

    url = scratch_database("correction_bench_zones_large")
    tokens, keys = build(url, PEOPLE)
    ids = [person_id for person_id, _ in tokens]
    large = ids[PEOPLE // 2:]
    geometry = json.dumps(county(args.vertices))
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:  # a new area is a new zone: the old one retires
        conn.execute(sa.text("UPDATE zones SET active = false WHERE kind = 'permitted' AND supervisee_id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"ids": large})
        conn.execute(sa.text(
            "INSERT INTO zones (supervisee_id, office_id, kind, name, geometry, active, created_at) "
            "SELECT id, office_id, 'permitted', '县界', CAST(:geometry AS jsonb), true, now() FROM supervisees "
            "WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)), {"geometry": geometry, "ids": large})
    engine.dispose()

    os.environ.update(DATABASE_URL=url, SECRET_KEY=SECRET_KEY, CORRECTION_RATELIMIT_ENABLED="false",
                      CORRECTION_LOG_LEVEL="WARNING")
    from correction.app import create_app
    client = create_app().test_client()
    clock = [int(time.time()) - 20 * 86400]

    def osmand(n: int, group: int) -> None:
        d = group * PEOPLE // 2 + n % (PEOPLE // 2)
        clock[0] += 1
        query = urlencode({"id": keys[d], "lat": 29.05, "lon": 119.60, "timestamp": clock[0], "accuracy": 10})
        assert client.get("/api/v1/ingest/osmand?" + query).status_code == 200

    def batch(n: int, group: int) -> None:
        d = group * PEOPLE // 2 + n % (PEOPLE // 2)
        first, clock[0] = clock[0] + 1, clock[0] + 101
        fixes = [{"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first + i)),
                  "lat": 29.05 + (i % 10) * 1e-5, "lon": 119.60 + (i % 7) * 1e-5, "accuracy_m": 12} for i in range(100)]
        answer = client.post("/api/v1/me/locations", data=json.dumps({"fixes": fixes}), content_type="application/json",
                             headers={"Authorization": f"Bearer {tokens[d][1]}"})
        assert answer.status_code == 200 and answer.get_json()["stored"] == 100, answer.data

    print(f"{args.requests} requests a line in each of {args.rounds} interleaved rounds, in process, PostgreSQL; "
          f"medians; the county has {args.vertices:,} vertices ({len(geometry):,} bytes of GeoJSON)")
    print("| request | CPU ms, small district | CPU ms, county | wall ms, small | wall ms, county | county against small |")
    print("|---|---|---|---|---|---|")
    for label, send in (("single OsmAnd fix", osmand), ("batch of 100", batch)):
        for group in (0, 1):  # warm: each person's first fixes confirm where they are, each zone is compiled
            for n in range(3 * PEOPLE):
                send(n, group)
        figures: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
        for _ in range(args.rounds):
            for group in (0, 1):
                cpu, wall = time.process_time(), time.perf_counter()
                for n in range(args.requests):
                    send(n, group)
                figures[group].append((1000 * (time.process_time() - cpu) / args.requests,
                                       1000 * (time.perf_counter() - wall) / args.requests))
        cpu = [statistics.median(c for c, _ in figures[g]) for g in (0, 1)]
        wall = [statistics.median(w for _, w in figures[g]) for g in (0, 1)]
        cpu_ratio = statistics.median(b[0] / a[0] for a, b in zip(figures[0], figures[1]))
        wall_ratio = statistics.median(b[1] / a[1] for a, b in zip(figures[0], figures[1]))
        print(f"| {label} | {cpu[0]:.2f} | {cpu[1]:.2f} | {wall[0]:.2f} | {wall[1]:.2f} | "
              f"CPU {cpu_ratio:.2f}×, wall {wall_ratio:.2f}× |")


if __name__ == "__main__":
    main()
