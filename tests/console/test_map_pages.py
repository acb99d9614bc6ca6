"""The map pages over HTTP (no browser): a day's track and the zones, their scope, audit and errors."""
from __future__ import annotations

import html as markup
import json
import re

import pytest
import sqlalchemy as sa
from flask import render_template

from correction.audit.models import AuditEntry
from correction.database import db
from correction.locations.models import LocationFix, Zone, ZoneEvent
from tests.console.test_pages import csrf_of, html, logged_in
from tests.factories import API, INSIDE, SQUARE, local, point_at

TODAY = "2026-11-25"  # the clock's day in Shanghai (START is 10:00 local)
EXCLUSION = {"type": "Circle", "center": [119.66, 29.06], "radius_m": 300}
TRIANGLE = {"type": "Polygon", "coordinates": [[[119.64, 29.04], [119.66, 29.04], [119.65, 29.06], [119.64, 29.04]]]}
BOW_TIE = {"type": "Polygon", "coordinates": [[[119.60, 29.00], [119.70, 29.10], [119.70, 29.00], [119.60, 29.10],
                                               [119.60, 29.00]]]}


def map_data(page: str) -> dict:
    return json.loads(markup.unescape(re.search(r'data-map="([^"]*)"', page).group(1)))


def a_fix(person, at, point=INSIDE, accuracy=25.0, mock=False) -> LocationFix:
    return LocationFix(supervisee_id=person.id, recorded_at=at, received_at=at, lat=point[0], lon=point[1],
                       accuracy_m=accuracy, is_mock=mock, source="app")


def audit_rows(app, prefix: str) -> list[tuple]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            sa.select(AuditEntry.action, AuditEntry.outcome, AuditEntry.target_type, AuditEntry.target_id,
                      AuditEntry.details).where(AuditEntry.action.like(prefix)).order_by(AuditEntry.id))]


def active_zones(app, person_id: int) -> list[Zone]:
    with app.app_context():
        return list(db.session.execute(sa.select(Zone).where(Zone.supervisee_id == person_id, Zone.active)
                                       .order_by(Zone.id)).scalars())


def test_the_days_track_shows_that_local_days_fixes_zones_stations_and_events(app, client, clock, make):
    scene = make.scene(station=True, officer_login=True, phone=False, zone=SQUARE)
    exclusion_id = make.zone(scene, EXCLUSION, kind="exclusion", name="网吧")
    person = scene.person.supervisee
    make.add(a_fix(person, local(2026, 11, 24, 23, 59)),  # the day before, in Shanghai
             a_fix(person, local(2026, 11, 25, 0, 1), point_at(200)),
             a_fix(person, local(2026, 11, 25, 8, 0), point_at(400), mock=True),
             a_fix(person, local(2026, 11, 25, 9, 30), point_at(600), accuracy=80.0),
             ZoneEvent(supervisee_id=person.id, zone_key="permitted", event="exit", at=local(2026, 11, 25, 8, 0),
                       lat=29.1, lon=119.65, accuracy_m=20.0),
             ZoneEvent(supervisee_id=person.id, zone_key=f"exclusion:{exclusion_id}", event="entry",
                       at=local(2026, 11, 25, 9, 30), lat=29.06, lon=119.66, accuracy_m=20.0))
    logged_in(client, clock, scene.officer)
    response = client.get(f"/supervisees/{scene.person_id}/track")
    assert response.status_code == 200
    page = html(response)
    data = map_data(page)
    assert [(f["time"], f["mock"], f["accuracy_m"]) for f in data["fixes"]] == [
        ("00:01:00", False, 25.0), ("08:00:00", True, 25.0), ("09:30:00", False, 80.0)]
    assert sorted((z["kind"], z["geometry"]["type"]) for z in data["zones"]) == [
        ("exclusion", "Circle"), ("permitted", "Polygon")]
    assert [(s["lat"], s["lon"], s["radius_m"]) for s in data["stations"]] == [
        (scene.station.lat, scene.station.lon, 100.0)]
    assert [e["label"] for e in data["events"]] == ["08:00 离开活动区域", "09:30 进入禁止区域 · 网吧"]
    assert re.search(r'id="fix-count">3<', page) and re.search(r'id="mock-count">1<', page)
    assert re.search(r'id="event-count">2<', page) and 'id="no-fixes"' not in page
    assert f"day={'2026-11-24'}" in page and 'id="next-day"' not in page  # no day after today
    earlier = html(client.get(f"/supervisees/{scene.person_id}/track?day=2026-11-24"))
    assert len(map_data(earlier)["fixes"]) == 1 and 'id="next-day"' in earlier
    reads = audit_rows(app, "track.%")
    assert [(a, o, t, i) for a, o, t, i, _d in reads] == [("track.read", "ok", "supervisee", scene.person_id)] * 2
    assert reads[0][4] == {"from": "2026-11-24T16:00:00+00:00", "to": "2026-11-25T16:00:00+00:00",
                           "format": "console"}


def test_a_day_without_fixes_says_so(client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    page = html(client.get(f"/supervisees/{scene.person_id}/track?day=2026-11-20"))
    assert "这一天没有定位记录" in page and re.search(r'id="fix-count">0<', page)
    assert "这一天没有进出区域的记录" in page and map_data(page)["fixes"] == []


def test_a_day_that_is_not_a_date_is_a_clear_error_page(app, client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    for day in ("2026-13-01", "yesterday", "0001-01-01", "20261125"):
        response = client.get(f"/supervisees/{scene.person_id}/track?day={day}")
        assert response.status_code == 422, day
        assert "日期" in html(response) and "无效" in html(response)
    assert {o for _a, o, *_ in audit_rows(app, "track.%")} == {"validation_error"}


def test_another_offices_supervisee_has_no_maps_here(app, client, clock, make):
    org = make.org()
    sister = org.sister_person.supervisee
    make.add(Zone(supervisee_id=sister.id, office_id=sister.office_id, kind="exclusion", name="学校",
                  geometry=EXCLUSION, active=True, created_at=clock()))
    sister_zone = active_zones(app, sister.id)[0].id
    logged_in(client, clock, org.officer)
    token = csrf_of(client, "/alerts")
    for person_id in (sister.id, org.foreign_person.supervisee.id, 2_000_000):
        assert client.get(f"/supervisees/{person_id}/track").status_code == 404
        assert client.get(f"/supervisees/{person_id}/zones").status_code == 404
    posted = client.post(f"/supervisees/{sister.id}/zones", data={
        "csrf_token": token, "kind": "exclusion", "name": "酒吧", "geometry": json.dumps(TRIANGLE)})
    assert posted.status_code == 404 and "无权查看" in html(posted)
    assert client.post(f"/zones/{sister_zone}/retire", data={"csrf_token": token}).status_code == 404
    assert [z.id for z in active_zones(app, sister.id)] == [sister_zone]
    client.post("/logout", data={"csrf_token": token})
    logged_in(client, clock, org.supervisor)  # the bureau's supervisor sees the sister office
    assert client.get(f"/supervisees/{sister.id}/track").status_code == 200
    assert client.get(f"/supervisees/{org.foreign_person.supervisee.id}/zones").status_code == 404


def test_zones_saved_from_the_page_are_the_apis_zones_with_its_audit(app, client, clock, make):
    scene = make.scene(station=True, officer_login=True, phone=False)
    logged_in(client, clock, scene.officer)
    token = csrf_of(client, f"/supervisees/{scene.person_id}/zones")
    for kind, name, geometry in (("permitted", "城中街道", TRIANGLE), ("exclusion", "网吧", EXCLUSION)):
        saved = client.post(f"/supervisees/{scene.person_id}/zones", data={
            "csrf_token": token, "kind": kind, "name": name, "geometry": json.dumps(geometry)})
        assert saved.status_code == 303 and saved.headers["Location"] == f"/supervisees/{scene.person_id}/zones"
    listed = client.get(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers).get_json()["items"]
    assert [(z["kind"], z["name"], z["geometry"]) for z in listed] == [
        ("permitted", "城中街道", TRIANGLE), ("exclusion", "网吧", EXCLUSION)]
    page = html(client.get(f"/supervisees/{scene.person_id}/zones"))
    assert "城中街道" in page and "半径 300 米的圆" in page and len(map_data(page)["zones"]) == 2
    assert [(a, o, t, i) for a, o, t, i, _d in audit_rows(app, "zone.create")] == [
        ("zone.create", "ok", "supervisee", scene.person_id)] * 2


def test_a_zone_that_does_not_validate_is_shown_as_refused_and_not_stored(app, client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    token = csrf_of(client, f"/supervisees/{scene.person_id}/zones")
    cases = [({"kind": "exclusion", "name": "网吧", "geometry": ""}, "地图上的形状"),
             ({"kind": "exclusion", "name": "网吧", "geometry": "{not json"}, "地图上的形状"),
             ({"kind": "exclusion", "name": "网吧", "geometry": json.dumps(BOW_TIE)}, "边线可能交叉"),
             ({"kind": "exclusion", "name": "网吧", "geometry": json.dumps({**EXCLUSION, "radius_m": 900_000})},
              "范围过大"),
             ({"kind": "exclusion", "name": "  ", "geometry": json.dumps(TRIANGLE)}, "名称"),
             ({"kind": "inclusion", "name": "网吧", "geometry": json.dumps(TRIANGLE)}, "类型")]
    for fields, words in cases:
        refused = client.post(f"/supervisees/{scene.person_id}/zones", data={"csrf_token": token, **fields})
        assert refused.status_code == 422, fields
        page = html(refused)
        assert "区域未保存" in page and words in page, fields
        assert f'href="/supervisees/{scene.person_id}/zones"' in page
    assert active_zones(app, scene.person_id) == []
    assert [o for _a, o, *_ in audit_rows(app, "zone.create")] == [
        "validation_error", "validation_error", "invalid_geometry", "invalid_geometry", "validation_error",
        "validation_error"]


def test_retiring_a_zone_from_the_page(app, client, clock, make):
    scene = make.scene(officer_login=True, phone=False)
    zone_id = make.zone(scene, EXCLUSION, kind="exclusion", name="网吧")
    logged_in(client, clock, scene.officer)
    token = csrf_of(client, f"/supervisees/{scene.person_id}/zones")
    done = client.post(f"/zones/{zone_id}/retire", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"] == f"/supervisees/{scene.person_id}/zones"
    assert active_zones(app, scene.person_id) == []
    assert client.post(f"/zones/{zone_id}/retire", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/zones/{zone_id}/retire").status_code == 400  # no CSRF token
    assert "没有生效的区域" in html(client.get(f"/supervisees/{scene.person_id}/zones"))
    assert [(a, o, t, i) for a, o, t, i, _d in audit_rows(app, "zone.retire")] == [
        ("zone.retire", "ok", "zone", zone_id), ("zone.retire", "zone_not_found", "zone", zone_id)]


def test_map_pages_carry_no_inline_code_and_link_each_other(client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    for path in (f"/supervisees/{scene.person_id}/track?day={TODAY}", f"/supervisees/{scene.person_id}/zones"):
        page = html(client.get(path))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) and not re.search(r"\son[a-z]+=|hx-on|\sstyle=", page)
        assert "/console/static/console/map.js" in page and "/console/static/vendor/leaflet/leaflet.js" in page


def test_the_supervisee_page_partial_links_both_maps(app, make):
    scene = make.scene(phone=False)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        links = render_template("_supervisee_map_links.html", supervisee=scene.person.supervisee)
    assert f'href="/supervisees/{scene.person_id}/track"' in links
    assert f'href="/supervisees/{scene.person_id}/zones"' in links and "Today's track" in links


@pytest.mark.parametrize("settings_overrides", [{"MAP_TILE_URL": "https://tiles.office.lan/{z}/{x}/{y}.png",
                                                 "TRACK_MAX_POINTS": 2}])
def test_intranet_tiles_and_the_export_limit_reach_the_track_page(client, clock, make, settings_overrides):
    scene = make.scene(phone=False)
    person = scene.person.supervisee
    make.add(*(a_fix(person, local(2026, 11, 25, 6, minute)) for minute in (0, 1, 2)))
    logged_in(client, clock, scene.officer)
    page = html(client.get(f"/supervisees/{scene.person_id}/track"))
    data = map_data(page)
    assert data["tiles"] == "https://tiles.office.lan/{z}/{x}/{y}.png"
    assert [f["time"] for f in data["fixes"]] == ["06:00:00", "06:01:00"] and 'id="truncated"' in page
