"""gunicorn's configuration: logs that never carry a secret, and rate limits counted once.

``make run`` and the deployment line in README.md pass ``-c gunicorn.conf.py``; gunicorn also
reads this file by itself when started from the repository's root. The access log writes the
request line, and OsmAnd clients send their ingest key as ``?id=``; OwnTracks sends it in Basic
auth, whose user name the ``%(u)s`` atom would print. Every atom is masked as it is written, and
gunicorn's error log gets the same filter as the application's logs.

Rate limits are counted in ``CORRECTION_RATELIMIT_STORAGE_URI``. On ``memory://`` every worker
process counts alone, so with N workers each limit would really be N times the configured one:
such a server does not start (``correction.ratelimit.refuse_shared_workers_on_memory``).
"""
import os

from gunicorn.glogging import Logger, SafeAtoms

from correction.security import MASK, RedactingFilter, redact, redact_query

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


logger_class = RedactingLogger


def on_starting(server):
    from correction.config import Settings
    from correction.ratelimit import refuse_shared_workers_on_memory

    settings = Settings.from_env(os.environ)
    if settings.RATELIMIT_ENABLED:
        refuse_shared_workers_on_memory(server.cfg.workers, settings.RATELIMIT_STORAGE_URI)
