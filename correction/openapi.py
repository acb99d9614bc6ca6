"""The OpenAPI 3.1 document, built from the declared operations, and the offline docs page."""
from __future__ import annotations

import os
import re
from typing import Any

import swagger_ui
from flask import Blueprint, Flask, current_app, jsonify, send_from_directory
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .api import MAX_ID, ApiBlueprint, Operation
from .errors import HTTP_CODES

_RULE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
SWAGGER_STATIC = os.path.join(os.path.dirname(swagger_ui.__file__), "static")

docs_bp = Blueprint("docs", __name__)

_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>correction API</title>
<link rel="stylesheet" href="docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/static/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body></html>"""


@docs_bp.get("/openapi.json")
def openapi_json():
    return jsonify(current_app.extensions["correction.openapi"])


@docs_bp.get("/docs")
def docs_page():
    return current_app.response_class(_DOCS_PAGE, mimetype="text/html")


# A file, not an inline script: the page's Content-Security-Policy runs scripts from 'self' only.
_DOCS_INIT = 'window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui"});\n'


@docs_bp.get("/docs/init.js")
def docs_init():
    return current_app.response_class(_DOCS_INIT, mimetype="text/javascript")


@docs_bp.get("/docs/static/<path:filename>")
def docs_static(filename: str):
    return send_from_directory(SWAGGER_STATIC, filename, max_age=86400)


def build_openapi(app: Flask, prefix: str) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every operation registered on ``app``."""
    operations = [op for bp in app.blueprints.values() if isinstance(bp, ApiBlueprint)
                  for op in bp.operations]
    models: list[tuple[type[BaseModel], str]] = []
    for op in operations:
        if op.body is not None:
            models.append((op.body, "validation"))
        if op.response is not None:
            models.append((op.response, "serialization"))
    models.append((ErrorResponse, "serialization"))
    refs, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    paths: dict[str, dict] = {}
    for op in operations:
        path = prefix + _RULE_PARAM.sub(r"{\2}", op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "correction — community-correction supervision API", "version": "1.0.0",
                 "description": "Errors always answer {\"error\": {\"code\", \"message\", \"details\"}}."},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


class _ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    """The one error shape."""

    error: _ErrorDetail


def _operation(op: Operation, refs) -> dict[str, Any]:
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    spec: dict[str, Any] = {"summary": op.summary, "tags": op.tags,
                            "operationId": f"{op.tags[0]}_{op.view.__name__}"}
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
                  for _conv, name in _RULE_PARAM.findall(op.rule)]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, prop in schema.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                               "schema": _nullable_removed(prop)})
    parameters.extend({"in": "header", **header} for header in op.headers)
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        spec["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(op.body, "validation")]}}}
    if op.status == 204:
        success: dict[str, Any] = {"description": "Done."}
    elif op.response is not None:
        success = {"description": "OK", "content": {op.media_type: {"schema": refs[(op.response, "serialization")]}}}
    else:
        media_types = op.media_type.split(",")
        success = {"description": "OK", "content": {m.strip(): {"schema": {}} for m in media_types}}
    responses: dict[str, Any] = {str(status): success for status in (op.status, *op.also)}
    statuses = set(op.errors) | {500, 503}
    if op.body is not None:
        statuses |= {400, 413, 415, 422}
    if op.query is not None:
        statuses |= {422}
    if op.auth:
        statuses |= {401, 403}
    if "{" in _RULE_PARAM.sub(r"{\2}", op.rule) or op.auth:
        statuses |= {404}
    if op.rate_limits:
        statuses |= {429}
    for status in sorted(statuses):
        responses[str(status)] = {"description": HTTP_CODES.get(status, "error"),
                                  "content": {"application/json": {"schema": error_ref}}}
    spec["responses"] = responses
    if op.auth:
        spec["security"] = [{"bearer": []}]
    return spec


def _nullable_removed(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter cannot be JSON null: document only its non-null form."""
    options = prop.get("anyOf")
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            merged = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
            merged.update(kept[0])
            return merged
    return {k: v for k, v in prop.items() if k != "default" or v is not None}
