"""Logs: one JSON object a line (python-json-logger) or text, with the request and its caller.

Every record written in a request carries its ``request_id`` (the X-Request-ID answered) and the
caller as ``actor`` (kind and id only: never a name, phone or ID number). Secrets are masked
by ``correction.security.RedactingFilter`` on the handler, before any formatter sees the
message, and a traceback is masked again as the JSON formatter renders it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import g, has_request_context
from pythonjsonlogger.json import JsonFormatter

from ..security import RedactingFilter, redact

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestContextFilter(logging.Filter):
    """Add ``request_id`` and ``actor`` to records written while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id, record.actor = None, None
        if has_request_context():
            record.request_id = g.get("request_id")
            principal = g.get("principal")
            if principal is not None:
                record.actor = {"kind": principal.kind, "id": principal.id}
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: time (UTC, ``Z``), level, logger, message, request_id, actor, extras."""

    def __init__(self):
        super().__init__("%(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level", "name": "logger"},
                         json_ensure_ascii=False)

    def add_fields(self, log_data, record, message_dict) -> None:
        log_data["time"] = (datetime.fromtimestamp(record.created, tz=timezone.utc)
                            .isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        super().add_fields(log_data, record, message_dict)
        if log_data.get("actor") is None:
            log_data.pop("actor", None)
        if log_data.get("request_id") is None:
            log_data.pop("request_id", None)

    def formatException(self, ei) -> str:
        return redact(super().formatException(ei))


def make_formatter(log_format: str) -> logging.Formatter:
    """Return the formatter for ``log_format``: ``json`` or ``text``."""
    if log_format == "json":
        return JsonLogFormatter()
    return logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})


def resolved_format(settings) -> str:
    """Return ``json`` or ``text``: LOG_FORMAT, where ``auto`` means JSON in production."""
    if settings.LOG_FORMAT != "auto":
        return settings.LOG_FORMAT
    return "json" if settings.ENV == "production" else "text"


def configure_logging(settings) -> None:
    """Give the root logger one redacting handler in the configured format (once per process)."""
    root = logging.getLogger()
    formatter = make_formatter(resolved_format(settings))
    ours = [h for h in root.handlers if any(isinstance(f, RedactingFilter) for f in h.filters)]
    if ours:
        for handler in ours:  # a second app in one process (tests) may choose another format
            handler.setFormatter(formatter)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
        handler.addFilter(RequestContextFilter())
        root.addHandler(handler)
    root.setLevel(settings.LOG_LEVEL)
    logging.getLogger("werkzeug").addFilter(RedactingFilter())
