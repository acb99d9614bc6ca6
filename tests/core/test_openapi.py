"""The API describes itself: a valid OpenAPI 3.1 document and a docs page that works offline."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import jsonschema_rs
import pytest
import schemathesis
from schemathesis.core.result import Ok

from tests.factories import API

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(client) -> dict:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _walk(node, path=()):
    """Yield (json path, node) for every dict in ``node``."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _resolve_pointer(document: dict, ref: str):
    assert ref.startswith("#/"), f"only local references are expected, got {ref!r}"
    node = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref!r} does not resolve (at {part!r})"
        node = node[part]
    return node


def test_document_is_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["paths"], "no operations documented"


def test_document_passes_the_openapi_3_1_meta_schema(app, document):
    # schemathesis validates the document against the official OAS 3.1 JSON schema
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    schema.validate()
    operations = list(schema.get_all_operations())
    broken = [op for op in operations if not isinstance(op, Ok)]
    assert not broken, broken
    assert len(operations) == sum(len(set(ops) & HTTP_METHODS) for ops in document["paths"].values())


def test_component_schemas_are_valid_json_schema_2020_12(document):
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_every_ref_resolves(document):
    refs = [(path, node["$ref"]) for path, node in _walk(document) if "$ref" in node]
    assert refs, "expected the document to use $ref"
    for path, ref in refs:
        _resolve_pointer(document, ref)


def test_every_operation_has_responses_and_a_unique_id(document):
    seen = set()
    for path, item in document["paths"].items():
        assert path.startswith(API + "/"), path
        templated = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            assert method in HTTP_METHODS, (path, method)
            where = f"{method.upper()} {path}"
            assert operation.get("responses"), where
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5][0-9][0-9]", status), (where, status)
                assert response.get("description"), (where, status)
            # errors are always documented in the one error shape
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (where, status)
            assert "500" in operation["responses"], where
            assert operation["operationId"] not in seen, operation["operationId"]
            seen.add(operation["operationId"])
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == templated, where
            if operation.get("security"):
                assert {name for req in operation["security"] for name in req} <= set(
                    document["components"]["securitySchemes"]), where


class _AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_docs_page_uses_only_local_assets_that_exist(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "swagger-ui" in html.lower()

    # no URL to any other host, anywhere in the page (links, scripts, inline script text)
    external = re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", html)
    assert external == [], external

    collector = _AssetCollector()
    collector.feed(html)
    assert collector.urls, "the page loads no assets"
    init_script = client.get(f"{API}/docs/init.js").get_data(as_text=True)  # no inline script (CSP)
    spec_url = re.search(r"""url:\s*["']([^"']+)["']""", html + init_script)
    assert spec_url, "the page does not name the OpenAPI document"
    page_url = f"http://localhost{API}/docs"
    for url in [*collector.urls, spec_url.group(1)]:
        absolute = urljoin(page_url, url)
        parts = urlsplit(absolute)
        assert parts.netloc == "localhost", url
        asset = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        try:  # static files are streamed: close them, or the open file leaks
            assert asset.status_code == 200, (url, asset.status_code)
            assert asset.get_data(), url
        finally:
            asset.close()
    assert urlsplit(urljoin(page_url, spec_url.group(1))).path == f"{API}/openapi.json"


def test_docs_static_refuses_paths_outside_its_directory(client):
    assert client.get(f"{API}/docs/static/../../openapi.py").status_code == 404
    assert client.get(f"{API}/docs/static/%2e%2e/__init__.py").status_code == 404
