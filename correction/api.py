"""Declarative endpoints: schemas in, schemas out, one unit of work per request.

``ApiBlueprint.operation`` registers a view together with its request and response
schemas. The wrapper it builds parses and validates input (pydantic), authenticates,
calls the view, shapes the answer through the response schema, records the audit entry
and commits once; on any error it rolls back, keeps what must be kept, and lets the one
error handler answer. The same registrations feed the OpenAPI document.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter
from werkzeug.routing import ValidationError as NoMatch

from .database import begin_request, commit_request, db, end_request
from .errors import (HTTP_CODES, Conflict, DomainError, InvalidJson, UnsupportedMediaType,
                     ValidationFailed)
from .ratelimit import RateLimit, check_callers, check_clients
from .schemas import MAX_ID

log = logging.getLogger(__name__)

def decimal_at_most(limit: int) -> str:
    """A regular expression for the decimal numbers from 1 to ``limit``, without leading zeros."""
    digits = str(limit)
    shorter = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for i, digit in enumerate(digits):
        low = "1" if i == 0 else "0"
        if int(digit) > int(low):
            rest = len(digits) - i - 1
            same_length.append(f"{digits[:i]}[{low}-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(shorter + same_length + [digits]) + ")"


class IdConverter(BaseConverter):
    """A positive id in a URL, at most ``MAX_ID``; anything else does not match (404).

    The bound is in the pattern itself: a converter that refuses a value after its pattern
    matched lets Werkzeug answer 405 when another method is registered for the same path.
    """

    regex = decimal_at_most(MAX_ID)

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:  # the pattern already says so; kept as the guard of record
            raise NoMatch()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


@dataclass
class Operation:
    """One documented endpoint: how to call it and what it answers."""

    method: str
    rule: str
    view: Callable
    summary: str
    tags: list[str]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    auth: str | None = None
    audit: str | None = None
    audit_target: tuple[str, str] | None = None
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()
    also: tuple[int, ...] = ()  # other success statuses, answering the same schema
    headers: tuple[dict, ...] = ()  # request headers to document: OpenAPI parameter objects
    rate_limits: tuple[RateLimit, ...] = ()  # counted by the unit of work: per client, then per caller


@dataclass
class AuditDraft:
    """What the audit entry of this request will say; a view may fill in more."""

    action: str
    target_type: str | None = None
    target_id: int | None = None
    actor_type: str | None = None
    actor_id: int | None = None
    actor_label: str | None = None
    bureau_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestHooks:
    """What a unit of work needs from the layers above the core; ``create_app`` installs them.

    The core cannot import authentication or the audit trail (they build on it), so the app
    hands them in: one place wires the layers together, and each layer imports only downwards.
    """

    authenticate: Callable[[str], None]  # resolve the caller into g.principal; 401/403 otherwise
    record_audit: Callable[[Any, AuditDraft, str], None]  # (session, draft, outcome)


HOOKS = "correction.request_hooks"


def _hooks() -> RequestHooks:
    return current_app.extensions[HOOKS]


class ApiBlueprint(Blueprint):
    """A blueprint whose routes are declared with their schemas."""

    def __init__(self, name: str, import_name: str, **kwargs):
        super().__init__(name, import_name, **kwargs)
        self.operations: list[Operation] = []

    def operation(self, method: str, rule: str, *, summary: str, body=None, query=None,
                  response=None, status: int = 200, auth: str | None = None,
                  audit: str | None = None, audit_target: tuple[str, str] | None = None,
                  media_type: str = "application/json", errors: tuple[int, ...] = (),
                  also: tuple[int, ...] = (), headers: tuple[dict, ...] = (),
                  rate_limit: RateLimit | tuple[RateLimit, ...] = ()):
        """Register the decorated view as ``method rule`` with its schemas (and its rate limits)."""
        rate_limits = (rate_limit,) if isinstance(rate_limit, RateLimit) else tuple(rate_limit)

        def decorator(view: Callable) -> Callable:
            op = Operation(method=method.upper(), rule=rule, view=view, summary=summary,
                           tags=[self.name], body=body, query=query, response=response,
                           status=status, auth=auth, audit=audit, audit_target=audit_target,
                           media_type=media_type, errors=errors, also=also, headers=headers,
                           rate_limits=rate_limits)
            self.operations.append(op)
            self.add_url_rule(rule, endpoint=view.__name__, view_func=_handler(op),
                              methods=[op.method])
            return view

        return decorator


def _handler(op: Operation) -> Callable:
    def handle(**path: Any) -> Response:
        return run_unit_of_work(op, path)

    handle.__name__ = op.view.__name__
    return handle


def run_unit_of_work(op: Operation, path: dict[str, Any]) -> Response:
    """Run one request as one transaction, audited, and answer through its schema."""
    session = db.session
    begin_request()
    g.audit = AuditDraft(op.audit) if op.audit else None
    if g.audit and op.audit_target:
        g.audit.target_type = op.audit_target[0]
        g.audit.target_id = path.get(op.audit_target[1])
    try:
        check_clients(op.rate_limits)  # before authenticating: a flood must not cost a token lookup
        if op.auth:
            _hooks().authenticate(op.auth)
        check_callers(op.rate_limits)
        kwargs = dict(path)
        if op.query is not None:
            kwargs["query"] = parse_query(op.query)
        if op.body is not None:
            kwargs["body"] = parse_body(op.body)
        result = op.view(**kwargs)
        response = shape_response(op, result)
        if g.audit:
            _hooks().record_audit(session, g.audit, "ok")
        commit_request(session)
        return response
    except sa.exc.IntegrityError as error:
        log.info("integrity conflict on %s %s: %s", op.method, op.rule, error.orig.__class__.__name__)
        conflict = Conflict("The request conflicts with a concurrent change; try again.")
        _fail(session, conflict.keep, conflict.code)
        raise conflict from None
    except sa.exc.OperationalError:
        # a lost connection, a lock timeout... or a query the database cannot run: say which
        log.exception("database error on %s %s", op.method, op.rule)
        _fail(session, [], "service_unavailable")
        raise DomainError("The database is unavailable; try again shortly.", status=503,
                          code="service_unavailable", headers={"Retry-After": "5"}) from None
    except DomainError as error:
        _fail(session, error.keep, error.code)
        raise
    except HTTPException as error:
        _fail(session, [], HTTP_CODES.get(error.code or 500, "http_error"))
        raise
    except Exception:
        _fail(session, [], "internal_error")
        raise
    finally:
        end_request(session)


def _fail(session, keep: list[Callable], outcome: str) -> None:
    """Roll the request back, then write what must outlive the failure, alone."""
    session.rollback()
    end_request(session)
    try:
        for write in keep:
            write(session)
        if g.get("audit"):
            _hooks().record_audit(session, g.audit, outcome)
        session.commit()
    except Exception:  # the original error matters more than its record
        log.exception("could not record the outcome of a failed request")
        session.rollback()


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Validate the JSON body against ``model``: 415, 400 or 422 when it does not fit."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType()
    raw = request.get_data(cache=True)
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        failure = error
    # Only a body that failed is read again, by the standard library, to tell malformed JSON (400)
    # from JSON that does not fit (422) as it always has.
    try:
        json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise InvalidJson() from None
    raise ValidationFailed(details={"fields": field_errors(failure)}) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the query string against ``model`` (422 with field paths when it fails)."""
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except ValidationError as error:
        raise ValidationFailed(details={"fields": field_errors(error, prefix="query")}) from None


def field_errors(error: ValidationError, prefix: str | None = None) -> list[dict[str, str]]:
    """Return the failing field paths and reasons, never the values sent."""
    out = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        parts = [str(p) for p in item["loc"]]
        if prefix:
            parts.insert(0, prefix)
        out.append({"path": ".".join(parts) or "(body)", "code": item["type"], "message": item["msg"]})
    return out


def shape_response(op: Operation, result: Any) -> Response:
    """Turn a view's result into a response, through the operation's response schema."""
    if isinstance(result, Response):
        return result
    status = op.status
    if isinstance(result, Answer):
        result, status = result.body, result.status
    if status == 204 or result is None:
        return Response(status=204)
    if op.response is not None:
        payload = op.response.model_validate(result, from_attributes=True).model_dump(mode="json")
    else:
        payload = result
    response = jsonify(payload)
    response.status_code = status
    return response


def audit_filters(query: BaseModel) -> None:
    """Record a list's filters in this request's audit entry: who searched for what."""
    g.audit.details = {name: value for name, value in query.model_dump(mode="json", exclude={"limit", "cursor"}).items()
                       if value is not None}


def png_response(data: bytes, expires_at=None) -> Response:
    """Answer a PNG image, with an ``Expires`` header when the picture goes stale."""
    response = current_app.response_class(data, mimetype="image/png")
    if expires_at is not None:
        response.headers["Expires"] = expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


@dataclass
class Answer:
    """A view's result with a status other than the operation's usual one (e.g. 200 for a replay).

    The status must be one the operation documents in ``also``.
    """

    body: Any
    status: int
