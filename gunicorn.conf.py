"""gunicorn's configuration: logs that never carry a secret, and rate limits counted once.

``make run`` and the deployment line in README.md pass ``-c gunicorn.conf.py``; gunicorn also
reads this file by itself when started from the repository's root. The access log writes the
request line, and OsmAnd clients send their ingest key as ``?id=``; OwnTracks sends it in Basic
auth, whose user name the ``%(u)s`` atom would print. Every atom is masked as it is written, and
gunicorn's error log gets the same filter as the application's logs.

Logs are JSON or text as the application's are (``CORRECTION_LOG_FORMAT``; ``auto`` means JSON in
production): the error log through the same formatter, the access log as one JSON object per
request with its atoms as fields (masked the same way).

Prometheus metrics are counted per worker in ``PROMETHEUS_MULTIPROC_DIR`` (a temporary directory
of this server's when unset, removed when it stops): emptied at start, dead workers marked as
they exit, so that /metrics adds up the living and the dead workers' counts correctly.

Rate limits are counted in ``CORRECTION_RATELIMIT_STORAGE_URI``. On ``memory://`` every worker
process counts alone, so with N workers each limit would really be N times the configured one:
such a server does not start (``correction.ratelimit.refuse_shared_workers_on_memory``).
"""
import os
import shutil
import tempfile
from pathlib import Path

from gunicorn.glogging import Logger, SafeAtoms

from correction.security import MASK, RedactingFilter, redact, redact_query

# Set before any worker imports prometheus_client, which reads it once at import.
# A reload (HUP) reads this file again: the directory made the first time stays ours.
_OWNED = "CORRECTION_OWN_METRICS_DIR"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[_OWNED] = tempfile.mkdtemp(prefix="correction-metrics-")

# Atoms that are nothing but credentials: masked whole when present.
_CREDENTIAL_ATOMS = frozenset({"u", "{authorization}i", "{proxy-authorization}i", "{cookie}i",
                               "{http_authorization}e", "{http_proxy_authorization}e", "{http_cookie}e"})
_QUERY_ATOMS = frozenset({"q", "{query_string}e"})


class RedactedAtoms(SafeAtoms):
    """Access-log atoms, each cleaned of secrets when the format asks for it."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if not isinstance(value, str) or value == "-":
            return value
        name = key.lower() if key.startswith("{") else key
        if name in _CREDENTIAL_ATOMS:
            return MASK
        if name in _QUERY_ATOMS:
            return redact_query(value)
        return redact(value)


class RedactingLogger(Logger):
    """gunicorn's logger with secrets masked in the access log and the error log."""

    atoms_wrapper_class = RedactedAtoms

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactingFilter) for f in log.filters):
                log.addFilter(RedactingFilter())
        self.json = _log_format() == "json"
        if self.json:
            from correction.ops.logs import JsonLogFormatter
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonLogFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.json:
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return None
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        fields = {"remote": atoms["h"], "method": atoms["m"], "path": atoms["U"], "query": atoms["q"],
                  "status": atoms["s"], "bytes": atoms["B"], "duration_ms": round(atoms["D"] / 1000, 1),
                  "user_agent": atoms["a"], "request_id": atoms["{x-request-id}o"]}
        try:
            self.access_log.info("%s %s %s", fields["method"], fields["path"], fields["status"], extra=fields)
        except Exception:
            self.error("Failed to log the request as JSON")
        return None


logger_class = RedactingLogger


def _log_format() -> str:
    from correction.config import Settings, SettingsError
    from correction.ops.logs import resolved_format

    try:
        return resolved_format(Settings.from_env(os.environ))
    except SettingsError:  # on_starting refuses to start with the reason
        return "text"


def on_starting(server):
    from correction.config import Settings
    from correction.ratelimit import refuse_shared_workers_on_memory

    try:
        settings = Settings.from_env(os.environ)
        if settings.RATELIMIT_ENABLED:
            refuse_shared_workers_on_memory(server.cfg.workers, settings.RATELIMIT_STORAGE_URI)
    except BaseException:  # gunicorn stops without on_exit: leave no directory behind
        on_exit(server)
        raise
    # Counts of a previous run would be added to this one's: start from an empty directory.
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for leftover in metrics_dir.glob("*.db"):
        leftover.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get(_OWNED) == os.environ["PROMETHEUS_MULTIPROC_DIR"]:
        shutil.rmtree(os.environ[_OWNED], ignore_errors=True)
