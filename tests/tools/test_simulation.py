"""The district in a box, shortened: 2 simulated days, 40 supervisees, scored.

Fails the suite when anybody slips (recall < 100%), when alerts are raised without cause
(precision < 99%), or when the server answered any 5xx. Runs on the database of the pass:
a fresh SQLite file, or a fresh PostgreSQL database beside TEST_DATABASE_URL's.
"""
from __future__ import annotations

import json

import pytest

from correction.tools.simulation.run import SimConfig, simulate
from tests.conftest import drop_database, scratch_database_url


@pytest.fixture
def simulation_database(db_kind, pg_url, tmp_path):
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'simulation.db'}"
        return
    url = scratch_database_url(pg_url, "simulation")
    yield url
    drop_database(url)


@pytest.mark.slow
@pytest.mark.timeout(900)  # CPU-bound for minutes: beside another xdist worker on a busy machine, past 300 s
def test_two_simulated_days_nobody_slips_and_no_alert_is_groundless(simulation_database, tmp_path):
    card = simulate(SimConfig(days=2, supervisees=40, seed=1, database_url=simulation_database,
                              out_dir=str(tmp_path / "out"), fast_hashing=True))
    summary = json.dumps({k: card[k] for k in ("uncaught_breaches", "unexplained_alerts", "server_error_samples",
                                              "refusal_samples")}, ensure_ascii=False)
    assert card["breaches_planted"] >= 5, "the seeded mix must plant breaches to catch"
    assert card["recall"] == 1.0, summary
    assert card["precision"] >= 0.99, summary
    assert card["server_errors"] == 0, summary
    assert card["valid_checkins_refused"] == 0, summary
    assert (tmp_path / "out" / "scorecard.json").exists()
    assert (tmp_path / "out" / "weekly-report.pdf").read_bytes().startswith(b"%PDF")
