"""A small HTTP client for the simulation: JSON in and out, every status counted."""
from __future__ import annotations

import base64
import http.client
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode


class Http:
    """Talks to the API server on localhost and keeps score of what it answered."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self.seconds = 0.0
        self.calls = 0

    def call(self, method: str, path: str, *, token: str | None = None, body: Any = None,
             headers: dict[str, str] | None = None, form: dict | None = None, raw: bytes | None = None):
        """Send one request; return (status, parsed JSON body or None)."""
        head = dict(headers or {})
        data = raw
        if token:
            head["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
            head["Content-Type"] = "application/json"
        elif form is not None:
            data = urlencode(form).encode()
            head["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, "/api/v1" + path, body=data, headers=head)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        self.seconds += time.perf_counter() - began
        self.calls += 1
        self.statuses[response.status] += 1
        if response.status >= 500:
            self.server_errors.append(f"{method} {path} -> {response.status} {payload[:200]!r}")
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return response.status, parsed

    def basic(self, key: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"phone:{key}".encode()).decode()}
