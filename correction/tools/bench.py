"""Baseline endpoints for benchmarks, in an app of their own that production never serves.

Each does the irreducible part of a real endpoint, so a benchmark can report the real
endpoint's throughput as a ratio of the baseline's measured in the same server and run.
Benchmarks serve ``correction.tools.bench:create_bench_app()``; ``create_app`` knows nothing of it.
"""
from __future__ import annotations

from ..api import ApiBlueprint
from ..app import API_PREFIX, create_app
from ..checkins.models import Checkin
from ..config import Settings
from ..database import db
from ..people.access import current_principal
from ..people.models import Supervisee
from ..schemas import Output
from ..time import now

bp = ApiBlueprint("bench", __name__)


def create_bench_app(settings: Settings | None = None):
    """The application with the baseline endpoints mounted; refused in production."""
    app = create_app(settings)
    if app.config["SETTINGS"].ENV == "production":
        raise RuntimeError("benchmark endpoints are never mounted in production")
    app.register_blueprint(bp, url_prefix=API_PREFIX)
    return app


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
