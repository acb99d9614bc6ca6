"""Stations and their screens: display credentials issued and revoked by the office, the screen's codes."""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.checkins.models import StationDisplay
from correction.config import Settings, SettingsError
from correction.console import SESSION_COOKIE
from correction.console.screen_pages import DISPLAY_COOKIE
from correction.database import db
from correction.people.models import Station
from tests.assertions import decode_png
from tests.console.test_pages import csrf_of, html, logged_in
from tests.factories import API, station_code
from tests.mall.test_concurrency import race

LINK = re.compile(r'id="pairing-link"[^>]*>(http://[^<#]+/station-screen)#([A-Za-z0-9_\-]+)<')


def issue(client, station_id: int, label: str = "大厅平板"):
    return client.post(f"/stations/{station_id}/displays", data={"csrf_token": csrf_of(client, "/stations"),
                                                                 "label": label})


def issued_secret(client, station_id: int) -> str:
    response = issue(client, station_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    return LINK.search(html(response)).group(2)


def display_rows(app) -> list[StationDisplay]:
    with app.app_context():
        found = db.session.execute(sa.select(StationDisplay).order_by(StationDisplay.id)).scalars().all()
        db.session.expunge_all()
    return list(found)


def paired(app, secret: str):
    """A fresh browser (a tablet) that traded ``secret`` for its own display cookie."""
    tablet = app.test_client()
    response = tablet.post("/station-screen/pair", json={"token": secret})
    assert response.status_code == 204, response.get_data(as_text=True)
    return tablet, response


def actions(app, prefix: str) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(AuditEntry.action, AuditEntry.outcome, AuditEntry.actor_type, AuditEntry.target_id,
                      AuditEntry.details).where(AuditEntry.action.like(prefix + "%")).order_by(AuditEntry.id))]


def test_an_officer_issues_a_display_shown_once_and_stored_as_a_hash(app, client, clock, make):
    scene = make.scene(station=True, phone=False)
    foreign = make.scene(station=True, phone=False)
    logged_in(client, clock, scene.officer)
    listing = html(client.get("/stations"))
    assert f'id="station-{scene.station.id}"' in listing and f'id="station-{foreign.station.id}"' not in listing
    response = issue(client, scene.station.id)
    page = html(response)
    origin, secret = LINK.search(page).groups()
    assert origin == "http://localhost/station-screen" and len(secret) >= 43
    assert 'id="pairing-qr"' in page and response.headers["Cache-Control"] == "no-store"
    picture = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    assert decode_png(base64.b64decode(picture)) == f"{origin}#{secret}"
    [display] = display_rows(app)
    assert display.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (display.station_id, display.label, display.issued_by, display.issued_at, display.paired_at) == (
        scene.station.id, "大厅平板", scene.officer.officer.id, clock(), None)
    listing = html(client.get("/stations"))
    row = listing[listing.index(f'id="display-{display.id}"'):]
    assert "大厅平板" in row and scene.officer.officer.name in row and "尚未配对" in row and secret not in listing
    assert issue(client, foreign.station.id).status_code == 404  # another office's station
    org = make.org()
    make.station(org.office), make.station(org.sister_office), make.station(org.foreign_office)
    logged_in(client, clock, org.supervisor)
    bureau = html(client.get("/stations"))
    assert bureau.count('class="card station"') == 2 and "城东街道司法所" in bureau  # the bureau's, not another's
    logged_in(client, clock, scene.officer)
    assert issue(client, scene.station.id, label=" ").status_code == 422
    assert [(a, o, t, d) for a, o, _k, t, d in actions(app, "station_display.issue")] == [
        ("station_display.issue", "ok", scene.station.id, {"display_id": display.id, "label": "大厅平板"}),
        ("station_display.issue", "station_not_found", foreign.station.id, {}),
        ("station_display.issue", "validation_error", scene.station.id, {})]
    assert len(display_rows(app)) == 1


def test_the_screen_pairs_once_and_shows_this_step_s_code_and_the_next(app, client, clock, make, caplog):
    scene = make.scene(station=True, phone=False)
    logged_in(client, clock, scene.officer)
    secret = issued_secret(client, scene.station.id)
    screen = app.test_client().get("/station-screen")
    assert screen.status_code == 200 and 'data-code-url="/station-screen/codes"' in html(screen)
    tablet, response = paired(app, secret)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{DISPLAY_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/station-screen" in cookie and "Max-Age=" in cookie and "Partitioned" not in cookie
    own = tablet.get_cookie(DISPLAY_COOKIE, path="/station-screen").value
    [display] = display_rows(app)
    assert own != secret and display.secret_hash == hashlib.sha256(own.encode()).hexdigest()
    assert display.paired_at == clock()
    # the link works once: a second tablet (or someone who saw the link) gets nothing
    again = app.test_client().post("/station-screen/pair", json={"token": secret})
    assert again.status_code == 401 and "无效" in html(again)
    assert app.test_client().post("/station-screen/pair", json={"token": own}).status_code == 401
    assert app.test_client().post("/station-screen/pair", data="x", content_type="text/plain").status_code == 422

    clock.advance(minutes=5)
    answer = tablet.get("/station-screen/codes")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert (body["station"], body["now"], body["step_seconds"]) == (scene.station.name, "2026-11-25T02:05:30Z", 30)
    with app.app_context():
        station = db.session.get(Station, scene.station.id)
    this, following = body["codes"]
    assert decode_png(base64.b64decode(this["png"].split(",", 1)[1])) == station_code(station, clock())
    assert decode_png(base64.b64decode(following["png"].split(",", 1)[1])) == station_code(
        station, clock() + timedelta(seconds=30))
    assert (this["starts_at"], this["expires_at"], following["starts_at"]) == (
        "2026-11-25T02:05:30Z", "2026-11-25T02:06:00Z", "2026-11-25T02:06:00Z")
    assert display_rows(app)[0].last_used_at == clock()
    assert [(a, o, k) for a, o, k, _t, _d in actions(app, "station_display.pair")] == [
        ("station_display.pair", "ok", "station_display"), ("station_display.pair", "display_pairing_invalid", None),
        ("station_display.pair", "display_pairing_invalid", None), ("station_display.pair", "validation_error", None)]
    assert secret not in caplog.text and own not in caplog.text


def test_the_display_credential_reaches_nothing_but_its_screen(app, client, clock, make):
    scene = make.scene(station=True, phone=False)
    logged_in(client, clock, scene.officer)
    secret = issued_secret(client, scene.station.id)
    tablet, _ = paired(app, secret)
    own = tablet.get_cookie(DISPLAY_COOKIE, path="/station-screen").value
    stranger = app.test_client()
    for path in ("/alerts", "/stations", "/leave"):
        stranger.set_cookie(DISPLAY_COOKIE, own, path="/")  # even sent where the browser would not send it
        assert stranger.get(path).headers["Location"] == "/?m=login"
        stranger.set_cookie(SESSION_COOKIE, own)  # nor is it an officer's session
        assert stranger.get(path).headers["Location"] == "/?m=login"
    for key in (own, secret):
        for path in (f"/stations/{scene.station.id}/qr", f"/stations/{scene.station.id}/qr.png", "/alerts"):
            assert stranger.get(API + path, headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert tablet.get("/station-screen/codes").status_code == 200


def test_revoked_or_retired_the_screen_says_so_at_its_next_refresh(app, client, clock, make):
    scene = make.scene(station=True, phone=False)
    foreign = make.scene(station=True, phone=False)
    logged_in(client, clock, scene.officer)
    first, _ = paired(app, issued_secret(client, scene.station.id))
    second, _ = paired(app, issued_secret(client, scene.station.id))
    assert app.test_client().get("/station-screen/codes").get_json() == {"state": "display_unpaired"}
    first_id, second_id = (row.id for row in display_rows(app))

    token = csrf_of(client, "/stations")
    revoked = client.post(f"/stations/displays/{first_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303 and revoked.headers["Location"] == "/stations"
    answer = first.get("/station-screen/codes")
    assert (answer.status_code, answer.get_json()) == (403, {"state": "display_revoked"})
    assert second.get("/station-screen/codes").status_code == 200
    listing = html(client.get("/stations"))
    assert "已撤销" in listing[listing.index(f'id="display-{first_id}"'):]

    with app.app_context():
        db.session.execute(sa.update(Station).where(Station.id == scene.station.id).values(active=False))
        db.session.commit()
    answer = second.get("/station-screen/codes")
    assert (answer.status_code, answer.get_json()) == (403, {"state": "station_retired"})

    logged_in(client, clock, foreign.officer)
    token = csrf_of(client, "/stations")
    assert client.post(f"/stations/displays/{second_id}/revoke", data={"csrf_token": token}).status_code == 404
    assert display_rows(app)[1].revoked_at is None
    assert [(a, o, t) for a, o, _k, t, _d in actions(app, "station_display.revoke")] == [
        ("station_display.revoke", "ok", first_id), ("station_display.revoke", "display_not_found", second_id)]


def test_only_the_screen_may_be_framed_and_only_by_the_configured_origins(client):
    screen = client.get("/station-screen")
    csp = screen.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp and "unsafe" not in csp
    assert screen.headers["X-Frame-Options"] == "DENY"
    page = html(screen)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) and not re.search(r"\son[a-z]+=|\sstyle=", page)


@pytest.mark.parametrize("settings_overrides", [{"STATION_SCREEN_FRAME_ANCESTORS": "https://signage.example.com"}])
def test_signage_origins_may_frame_the_screen_and_nothing_else(app, client, clock, make, settings_overrides):
    screen = client.get("/station-screen")
    assert "frame-ancestors https://signage.example.com" in screen.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in screen.headers
    for path in ("/", "/station-screen/codes"):
        other = client.get(path)
        assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"]
        assert other.headers["X-Frame-Options"] == "DENY"
    scene = make.scene(station=True, phone=False)
    logged_in(client, clock, scene.officer)
    response = app.test_client().post("/station-screen/pair", json={"token": issued_secret(client, scene.station.id)})
    cookie = response.headers["Set-Cookie"]  # a frame is a third party: only this cookie is sent there
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie


@pytest.mark.parametrize("value", ["javascript:alert(1)", "https://a.example; script-src *", ""])
def test_frame_ancestors_must_be_origins_or_keywords(value):
    with pytest.raises(SettingsError, match="STATION_SCREEN_FRAME_ANCESTORS"):
        Settings.from_env(environ={"CORRECTION_STATION_SCREEN_FRAME_ANCESTORS": value})


def test_two_tablets_opening_one_link_at_once_pair_one(app, client, clock, make):
    scene = make.scene(station=True, phone=False)
    logged_in(client, clock, scene.officer)
    secret = issued_secret(client, scene.station.id)
    answers = race(app, [lambda tablet: tablet.post("/station-screen/pair", json={"token": secret})] * 2)
    assert sorted(status for status, _body in answers) == [204, 401]
    assert len([entry for entry in actions(app, "station_display.pair") if entry[1] == "ok"]) == 1
