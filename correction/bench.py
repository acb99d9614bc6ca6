"""Baseline endpoints for benchmarks, mounted only with BENCHMARK_ENDPOINTS (never in production).

Each does the irreducible part of a real endpoint, so a benchmark can report the real
endpoint's throughput as a ratio of the baseline's measured in the same server and run.
"""
from __future__ import annotations

from .api import ApiBlueprint
from .auth.principal import current_principal
from .checkins.models import Checkin
from .database import db
from .people.models import Supervisee
from .schemas import Output
from .time import now

bp = ApiBlueprint("bench", __name__)


class Inserted(Output):
    id: int


@bp.operation("POST", "/_bench/token-insert", summary="Benchmark baseline: token lookup and one insert",
              response=Inserted, status=201, auth="supervisee")
def token_insert():
    principal = current_principal()
    person = db.session.get(Supervisee, principal.id)
    row = Checkin(supervisee_id=person.id, office_id=person.office_id, kind="remote",
                  outcome="refused", refusal_code="benchmark", received_at=now())
    db.session.add(row)
    db.session.flush()
    return row
