"""The one error shape: domain exceptions with stable codes, turned into JSON in one place."""
from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    423: "account_locked",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class DomainError(Exception):
    """An expected refusal: a stable code, a message for people, details for programs.

    ``keep`` holds functions of the session that must be written even though the request
    fails (a failed-login counter, the record of a refused check-in): the unit of work rolls
    back the request's writes, then applies these and commits them alone.
    """

    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: dict[str, Any] | None = None, status: int | None = None,
                 keep: list[Callable] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        self.keep = list(keep or [])
        self.headers = headers or {}


class InvalidJson(DomainError):
    status, code, message = 400, "invalid_json", "The request body is not valid JSON."


class Unauthorized(DomainError):
    status, code, message = 401, "unauthorized", "Authentication is required."


class Forbidden(DomainError):
    status, code, message = 403, "forbidden", "This action is not allowed for you."


class NotFound(DomainError):
    status, code, message = 404, "not_found", "No such object."


class Conflict(DomainError):
    status, code, message = 409, "conflict", "The request conflicts with the current state."


class UnsupportedMediaType(DomainError):
    status, code, message = 415, "unsupported_media_type", "Send the body as application/json."


class ValidationFailed(DomainError):
    status, code, message = 422, "validation_error", "The request has invalid fields."


class Locked(DomainError):
    status, code, message = 423, "account_locked", "The account is locked for a while."


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    """Return the error shape every error response uses."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str, details=None, headers=None):
    """Return a Flask response in the one error shape."""
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Make every error, expected or not, answer in the one error shape."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = HTTP_CODES.get(error.code or 500, "http_error")
        message = error.description or error.name
        if error.code == 429:
            message = "Too many requests; slow down and try again later."
        response = error_response(error.code or 500, code, message)
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        original = error.get_response()
        if "Retry-After" in original.headers:
            response.headers["Retry-After"] = original.headers["Retry-After"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "An internal error occurred.")
