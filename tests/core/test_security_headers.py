"""Every answer carries the security headers: API data, the docs page, errors; HSTS only over https."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from correction.app import create_app
from correction.database import db
from correction.headers import API_CSP
from tests.conftest import make_settings
from tests.assertions import error_of

API = "/api/v1"
COMMON = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def _directives(csp: str) -> dict[str, list[str]]:
    parts = [part.split() for part in csp.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_security_headers(response, csp: str | None = API_CSP) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    if csp is not None:
        assert response.headers.get("Content-Security-Policy") == csp


def test_an_api_answer_carries_the_security_headers(client):
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    assert_security_headers(response)
    assert _directives(response.headers["Content-Security-Policy"]) == {
        "default-src": ["'none'"], "frame-ancestors": ["'none'"]}


def test_error_answers_carry_the_security_headers(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("unexpected")

    answers = {
        404: client.get(f"{API}/no-such-thing"),
        401: client.get(f"{API}/me"),
        405: client.delete(f"{API}/health"),
        400: client.post(f"{API}/auth/officer/login", data="{", content_type="application/json"),
        500: client.get("/boom-for-test"),
    }
    for status, response in answers.items():
        error_of(response, status)
        assert_security_headers(response)


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.styles: list[str] = []
        self.inline_script = False
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append(attrs)
            self._in_script = True
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.styles.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_script = True


def test_docs_page_policy_lets_its_own_swagger_ui_load_and_nothing_else(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    assert_security_headers(response, csp=None)
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no inline, no eval, no other host
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'self'" in policy["style-src"] and "'self'" in policy["connect-src"]
    assert "data:" in policy["img-src"]  # Swagger UI's icons are data: URIs in its stylesheet

    page = _Page()
    page.feed(response.get_data(as_text=True))
    assert not page.inline_script, "an inline script would be blocked by script-src 'self'"
    assert not page.handlers, page.handlers
    assert page.scripts and all(script.get("src") for script in page.scripts)
    page_url = f"http://localhost{API}/docs"
    loaded = {}
    for url, mimetype in [*((s["src"], "text/javascript") for s in page.scripts),
                          *((href, "text/css") for href in page.styles)]:
        parts = urlsplit(urljoin(page_url, url))
        assert parts.netloc == "localhost", url  # 'self'
        asset = client.get(parts.path)
        try:
            assert asset.status_code == 200, url
            assert asset.mimetype == mimetype, (url, asset.mimetype)
            loaded[parts.path] = asset.get_data(as_text=True)
        finally:
            asset.close()
    # The init script starts Swagger UI on the document the policy lets it fetch ('self').
    init = loaded[f"{API}/docs/init.js"]
    spec = re.search(r"""SwaggerUIBundle\(\{url:\s*["']([^"']+)["']""", init)
    assert spec and urlsplit(urljoin(page_url, spec.group(1))).path == f"{API}/openapi.json"
    assert client.get(f"{API}/openapi.json").status_code == 200
    assert "SwaggerUIBundle" in loaded[f"{API}/docs/static/swagger-ui-bundle.js"]


def test_hsts_is_sent_over_https_only(client):
    plain = client.get(f"{API}/health")
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get(f"{API}/health", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert_security_headers(secure)
    # A client cannot claim https for itself when no proxy is trusted.
    forged = client.get(f"{API}/health", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


def _answer(settings, **request):
    """GET /health from an app of its own, which lets go of its connections afterwards."""
    app = create_app(settings)
    try:
        return app.test_client().get(f"{API}/health", **request)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("proto, expected", [("https", True), ("http", False)])
def test_hsts_behind_a_trusted_proxy_follows_the_forwarded_scheme(database_url, proto, expected):
    response = _answer(make_settings(database_url, TRUSTED_PROXIES=1), headers={"X-Forwarded-Proto": proto,
                                                                                "X-Forwarded-For": "203.0.113.9"})
    assert ("Strict-Transport-Security" in response.headers) is expected
    assert_security_headers(response)


def test_hsts_can_be_turned_off(database_url):
    response = _answer(make_settings(database_url, HSTS_MAX_AGE_SECONDS=0), base_url="https://localhost")
    assert "Strict-Transport-Security" not in response.headers
