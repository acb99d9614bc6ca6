"""The scorecard: planted breaches against the alerts raised, and how fast it all ran."""
from __future__ import annotations

import json
from datetime import timedelta
from statistics import median

import sqlalchemy as sa

from ...alerts.models import Alert
from ...database import db
from ...time import iso_z

SUBJECT_TYPES = ("missed_checkin", "missed_spot_check")


def scorecard(app, world, config) -> dict:
    """Match every planted breach to an alert (recall) and every alert to a breach (precision)."""
    with app.app_context():
        alerts = list(db.session.execute(sa.select(Alert).order_by(Alert.id)).scalars())
    breaches = world.planner.breaches
    by_key: dict[tuple, list] = {}
    for breach in breaches:
        by_key.setdefault((breach.supervisee_id, breach.type), []).append(breach)
    justified, unexplained = 0, []
    for alert in alerts:
        candidates = by_key.get((alert.supervisee_id, alert.type), [])
        if alert.type in SUBJECT_TYPES:
            candidates = [b for b in candidates if b.subject == alert.subject_key]
        else:
            candidates = [b for b in candidates if alert.raised_at >= b.at - timedelta(minutes=5)]
        if candidates:
            justified += 1
            for breach in candidates:
                if breach.caught_by is None:
                    breach.caught_by, breach.caught_at = alert.id, alert.raised_at
        else:
            unexplained.append({"alert_id": alert.id, "supervisee_id": alert.supervisee_id, "type": alert.type,
                                "subject": alert.subject_key, "raised_at": iso_z(alert.raised_at),
                                "behaviour": world.behaviour_of(alert.supervisee_id)})
    missed = [b for b in breaches if b.caught_by is None]
    delays = [(b.caught_at - b.at).total_seconds() / 60 for b in breaches if b.caught_at is not None]
    by_type: dict[str, dict] = {}
    for breach in breaches:
        entry = by_type.setdefault(breach.type, {"planted": 0, "caught": 0, "minutes": []})
        entry["planted"] += 1
        entry["caught"] += breach.caught_by is not None
        if breach.caught_at is not None:
            entry["minutes"].append((breach.caught_at - breach.at).total_seconds() / 60)
    for entry in by_type.values():
        minutes = entry.pop("minutes")
        entry["median_minutes_to_alert"] = round(median(minutes), 1) if minutes else None
        entry["worst_minutes_to_alert"] = round(max(minutes), 1) if minutes else None
    http = world.http
    fixes_rate = world.counts["fixes_sent"] / world.timing["fixes"] if world.timing["fixes"] else None
    checkin_rate = world.counts["checkins_sent"] / world.timing["checkins"] if world.timing["checkins"] else None
    return {
        "days": config.days, "supervisees": config.supervisees, "seed": config.seed,
        "behaviours": world.behaviour_counts(),
        "breaches_planted": len(breaches), "breaches_caught": len(breaches) - len(missed),
        "recall": round((len(breaches) - len(missed)) / len(breaches), 4) if breaches else 1.0,
        "alerts_raised": len(alerts), "alerts_justified": justified,
        "precision": round(justified / len(alerts), 4) if alerts else 1.0,
        "by_type": by_type,
        "minutes_breach_to_alert": {"median": round(median(delays), 1) if delays else None,
                                    "worst": round(max(delays), 1) if delays else None},
        "http_requests": http.calls, "http_statuses": {str(k): v for k, v in sorted(http.statuses.items())},
        "server_errors": len(http.server_errors), "server_error_samples": http.server_errors[:5],
        "valid_checkins_refused": world.counts["valid_checkins_refused"], "refusal_samples": world.refusals[:5],
        "throughput": {"fixes_per_second": round(fixes_rate, 1) if fixes_rate else None,
                       "checkins_per_second": round(checkin_rate, 1) if checkin_rate else None},
        "counts": world.counts,
        "uncaught_breaches": [{"supervisee_id": b.supervisee_id, "type": b.type, "subject": b.subject,
                               "at": iso_z(b.at), "behaviour": world.behaviour_of(b.supervisee_id)} for b in missed][:50],
        "unexplained_alerts": unexplained[:50],
    }


def render(card: dict) -> str:
    """Return the scorecard as the lines `make demo` prints."""
    lines = [
        f"Scorecard — {card['supervisees']} supervisees, {card['days']} days, seed {card['seed']}",
        f"  behaviours: {json.dumps(card['behaviours'], ensure_ascii=False)}",
        f"  recall    {card['recall']:.2%}  ({card['breaches_caught']}/{card['breaches_planted']} planted breaches caught;"
        f" target 100%)",
        f"  precision {card['precision']:.2%}  ({card['alerts_justified']}/{card['alerts_raised']} alerts justified;"
        f" target >= 99%)",
        f"  breach → alert: median {card['minutes_breach_to_alert']['median']} min,"
        f" worst {card['minutes_breach_to_alert']['worst']} min",
        f"  server errors (5xx): {card['server_errors']}   valid check-ins refused: {card['valid_checkins_refused']}",
        f"  throughput: {card['throughput']['fixes_per_second']} fixes/s,"
        f" {card['throughput']['checkins_per_second']} check-ins/s (client-measured, incl. HTTP)",
        "  by type: " + ", ".join(f"{t} {v['caught']}/{v['planted']}" for t, v in sorted(card["by_type"].items())),
    ]
    return "\n".join(lines)
