"""The bare baseline of ``ingest_http.py``: Flask and PostgreSQL, one INSERT per request, nothing else.

No authentication, validation or rules: what is left is HTTP, Flask, parsing the fix and one
transaction with one INSERT, through the same driver (psycopg 3) and the same pool (SQLAlchemy's
default QueuePool, as Flask-SQLAlchemy gives the application) into a copy of ``location_fixes``
with the same indexes and foreign key. gunicorn serves it as ``benchmarks._bare_app:app``.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask, request

from correction.config import normalise_database_url

app = Flask(__name__)
engine = sa.create_engine(normalise_database_url(os.environ["DATABASE_URL"]), hide_parameters=True)

_ONE = sa.text("""
    INSERT INTO bare_fixes (supervisee_id, received_at, source, recorded_at, lat, lon, accuracy_m, speed_mps, battery,
                            is_mock)
    VALUES (:supervisee_id, :received_at, 'osmand', :recorded_at, :lat, :lon, :accuracy_m, :speed_mps, :battery, false)
    ON CONFLICT (supervisee_id, recorded_at) DO NOTHING""")
_MANY = sa.text("""
    INSERT INTO bare_fixes (supervisee_id, received_at, source, recorded_at, lat, lon, accuracy_m, speed_mps, battery,
                            is_mock)
    SELECT :supervisee_id, :received_at, 'app', u.*, false FROM unnest(
        CAST(:recorded_at AS timestamptz[]), CAST(:lat AS float8[]), CAST(:lon AS float8[]),
        CAST(:accuracy_m AS float8[]), CAST(:speed_mps AS float8[]), CAST(:battery AS float8[])) AS u
    ON CONFLICT (supervisee_id, recorded_at) DO NOTHING""")


@app.get("/bare/osmand")
def one_fix():
    args = request.args
    with engine.begin() as conn:
        conn.execute(_ONE, {"supervisee_id": int(args["id"]), "received_at": datetime.now(timezone.utc),
                            "recorded_at": datetime.fromtimestamp(int(args["timestamp"]), timezone.utc),
                            "lat": float(args["lat"]), "lon": float(args["lon"]),
                            "accuracy_m": float(args["accuracy"]), "speed_mps": float(args["speed"]),
                            "battery": float(args["batt"])})
    return "", 200, {"Content-Type": "text/plain"}


@app.post("/bare/batch")
def batch():
    body = json.loads(request.get_data())
    fixes = body["fixes"]
    columns = ("lat", "lon", "accuracy_m", "speed_mps", "battery")
    params = {name: [float(f[name]) for f in fixes] for name in columns}
    params["recorded_at"] = [datetime.fromisoformat(f["recorded_at"]) for f in fixes]
    with engine.begin() as conn:
        stored = conn.execute(_MANY, {**params, "supervisee_id": int(body["supervisee_id"]),
                                      "received_at": datetime.now(timezone.utc)}).rowcount
    return {"stored": stored, "skipped": len(fixes) - stored, "refused": []}

