"""The Prometheus metrics that code counts as it goes (prometheus-client).

Any layer may count here: the objects are module-level, cheap to increment, and under gunicorn
(``PROMETHEUS_MULTIPROC_DIR`` set before the workers import this) each worker writes its own
file that ``correction.ops.metrics`` adds up at scrape time. What the database already knows
(open alerts, the scheduler's lag) is not counted here but read when Prometheus scrapes.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "correction_http_requests", "HTTP requests answered, by endpoint (the URL rule, never the raw path), "
    "method and status.", ["endpoint", "method", "status"])
HTTP_LATENCY = Histogram(
    "correction_http_request_duration_seconds", "Time to answer an HTTP request, by endpoint and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
FIXES_STORED = Counter("correction_location_fixes_stored", "Location fixes stored (new ones).")
FIXES_DUPLICATE = Counter("correction_location_fixes_duplicate",
                          "Location fixes dropped as duplicates (same person, same time).")
FIXES_REFUSED = Counter("correction_location_fixes_refused", "Location fixes refused, by refusal code.",
                        ["code"])
FIXES_JUDGED_FIRST = Counter(
    "correction_location_fixes_judged_first", "Real clients' fixes judged before they were sent (locations.single), "
    "by whether their statement found the usual case still held (usual) or left them to the evaluator (evaluated).",
    ["outcome"])


def count_judged_first(usual: bool) -> None:
    """Count a fix judged before it was sent: stored as the usual case, or handed to the evaluator."""
    FIXES_JUDGED_FIRST.labels("usual" if usual else "evaluated").inc()


def count_fixes(stored: int, duplicate: int, refusal_codes: list[str]) -> None:
    """Count one batch's outcome: fixes stored, dropped as duplicates, refused (by code)."""
    if stored:
        FIXES_STORED.inc(stored)
    if duplicate:
        FIXES_DUPLICATE.inc(duplicate)
    for code in refusal_codes:
        FIXES_REFUSED.labels(code).inc()
