"""What the app serves: the shell, the service worker and the manifest with their headers, the vendored
assets its manifest names, the icons, and every string in both languages."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

from PIL import Image

from correction.alerts.workflow import ASKS_SUPERVISEE
from correction.mobile import vendor
from correction.mobile.blueprint import STATIC

APP = STATIC.parent


def test_the_shell_is_served_with_a_strict_csp_that_allows_its_worker_and_is_revalidated(client):
    response = client.get("/app/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and "unsafe" not in csp
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp and "connect-src 'self'" in csp
    assert response.headers["Cache-Control"] == "no-cache"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html and not re.search(r"\son[a-z]+=", html)
    assert 'rel="manifest" href="/app/manifest.webmanifest"' in html
    assert client.get("/app").status_code in (301, 308)  # to /app/, the worker's scope


def test_the_service_worker_is_served_at_the_scope_root_uncached_with_its_shell_files(client):
    response = client.get("/app/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/app/"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", body).group(1))
    assert {"/app/static/app/main.js", "/app/static/i18n/zh.json", "/app/static/i18n/en.json",
            "/app/static/vendor/jsqr/jsQR.js", "/app/static/icons/icon-192.png"} <= set(assets)
    for url in assets:  # everything the worker keeps exists and is served
        with client.get(url) as asset:
            assert asset.status_code == 200, url


def test_the_web_manifest_makes_the_app_installable(client):
    response = client.get("/app/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/app/", "/app/", "standalone")
    assert manifest["name"] == "社区矫正" and manifest["lang"] == "zh-CN"
    sizes = {}
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as png:
            image = Image.open(io.BytesIO(png.data))
        assert f"{image.width}x{image.height}" == icon["sizes"] and icon["type"] == "image/png"
        sizes.setdefault(icon["purpose"], set()).add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes["any"] and "512x512" in sizes["maskable"]


def test_the_vendored_decoder_is_the_one_the_manifest_names():
    assert vendor.verify() == []
    names = {p["name"]: p for p in json.loads(vendor.MANIFEST.read_text())["packages"]}
    assert names["jsqr"]["version"] == "1.4.0" and names["jsqr"]["license"] == "Apache-2.0"


def _catalog(language: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{language}.json").read_text(encoding="utf-8"))


def test_every_string_of_the_app_is_in_both_languages():
    zh, en = _catalog("zh"), _catalog("en")
    assert set(zh) == set(en)
    assert all(zh.values()) and all(en.values())
    used = set(re.findall(r'data-i18n="([\w.]+)"', (APP / "templates" / "mobile" / "shell.html").read_text()))
    for script in (STATIC / "app").glob("*.js"):
        used |= set(re.findall(r"\bt\('([\w.]+)'", script.read_text()))
    # keys made from what the API answers: kinds, states, colours, refusal codes
    used |= {f"window.{k}" for k in ("remote", "station", "spot", "period")}
    used |= {f"status.{s}" for s in ("upcoming", "open", "satisfied")}
    used |= {f"colour.{c}" for c in ("green", "yellow", "red")}
    used |= {f"order.{s}" for s in ("pending", "fulfilled", "cancelled")}
    used |= {f"alert.{kind}" for kind in ASKS_SUPERVISEE}
    used |= {f"leave.{s}" for s in ("pending", "approved", "rejected", "closed")}
    service = (Path(vendor.__file__).parents[1] / "checkins" / "service.py").read_text()
    used |= {f"refusal.{code}" for code in re.findall(r'refuse\("([a-z_]+)"', service)}
    used |= {f"refusal.{code}" for code in ("insufficient_points", "out_of_stock", "limit_reached", "item_inactive")}
    assert len(used) > 60
    assert sorted(used - set(zh)) == []
