"""The maps in a real browser: a day's track drawn, zones drawn with the mouse, stored and retired."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from geopy.distance import geodesic
from playwright.sync_api import expect

from correction.database import db
from correction.leave.models import LeaveRequest
from correction.locations.models import Zone, ZoneEvent
from tests.console.test_browser import log_in
from tests.console.test_map_pages import EXCLUSION, a_fix
from tests.factories import SQUARE, local, point_at


@pytest.fixture
def page(page):
    """The browser page, also collecting the script errors of the page (a map that failed to draw)."""
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


def test_the_days_track_draws_fixes_zones_stations_with_scale_and_graticule(app, page, clock, make):
    scene = make.scene(station=True, officer_login=True, phone=False, zone=SQUARE)
    make.zone(scene, EXCLUSION, kind="exclusion", name="网吧")
    person = scene.person.supervisee
    make.add(a_fix(person, local(2026, 11, 25, 7, 0), point_at(150)),
             a_fix(person, local(2026, 11, 25, 7, 5), point_at(300), mock=True),
             a_fix(person, local(2026, 11, 25, 7, 10), point_at(450, bearing=45), accuracy=60.0),
             ZoneEvent(supervisee_id=person.id, zone_key="permitted", event="exit", at=local(2026, 11, 25, 7, 10),
                       lat=29.086, lon=119.652, accuracy_m=20.0))
    log_in(page, clock, scene.officer)
    page.goto(f"/supervisees/{scene.person_id}/track?day=2026-11-25")
    track = page.locator("#track-map")
    expect(track).to_have_attribute("data-drawn", "3")
    overlay = track.locator(".leaflet-overlay-pane")
    assert overlay.locator("path.fix").count() == 3 and overlay.locator("path.fix.mock").count() == 1
    assert overlay.locator("path.accuracy").count() == 3 and overlay.locator("path.track-path").count() == 1
    assert overlay.locator("path.zone.permitted").count() == 1 and overlay.locator("path.zone.exclusion").count() == 1
    assert overlay.locator("path.station").count() == 1 and overlay.locator("path.zone-event").count() == 1
    expect(page.locator("#zone-events li")).to_have_count(1)
    expect(track.locator(".leaflet-control-scale-line")).to_be_visible()
    assert track.locator("img.leaflet-tile").count() == 0  # no tiles configured: a plain background
    # the graticule: labelled lines whose spacing follows the zoom
    assert track.locator(".graticule-line").count() >= 4 and track.locator(".graticule-label").count() >= 4
    fine = track.get_attribute("data-graticule-step")
    for _ in range(3):
        zoom = track.get_attribute("data-zoom")
        track.locator(".leaflet-control-zoom-out").click()
        page.wait_for_function("zoom => document.querySelector('#track-map').dataset.zoom !== zoom", arg=zoom)
    assert float(track.get_attribute("data-graticule-step")) > float(fine)
    assert page.csp_violations == [] and page.script_errors == []


def _click_map(page, selector: str, points) -> None:
    box = page.locator(selector).bounding_box()
    for x, y in points:
        page.mouse.click(box["x"] + x, box["y"] + y)


def test_an_officer_draws_a_polygon_and_a_circle_then_retires_one(app, page, clock, make):
    scene = make.scene(station=True, phone=False)
    log_in(page, clock, scene.officer)
    page.goto(f"/supervisees/{scene.person_id}/zones")
    expect(page.locator("#no-zones")).to_be_visible()
    expect(page.locator("#zones-map")).to_have_attribute("data-drawn", "0")

    page.click("#draw-polygon")
    _click_map(page, "#zones-map", [(150, 150), (350, 160), (330, 380), (140, 330)])
    expect(page.locator("#zones-map path.vertex")).to_have_count(4)
    page.click("#draw-finish")
    page.fill("#zone-form input[name=name]", "网吧一条街")
    page.select_option("#zone-form select[name=kind]", "exclusion")
    page.click("#save-zone")
    expect(page.locator("#zone-list tr")).to_have_count(1)

    page.click("#draw-circle")
    _click_map(page, "#zones-map", [(250, 250), (330, 250)])
    expect(page.locator("#zone-form input[name=radius_m]")).not_to_have_value("")  # set by the page's script
    radius = float(page.input_value("#zone-form input[name=radius_m]"))
    assert radius > 0
    page.fill("#zone-form input[name=name]", "居住地")
    page.select_option("#zone-form select[name=kind]", "permitted")
    page.click("#save-zone")
    expect(page.locator("#zone-list tr")).to_have_count(2)
    expect(page.locator("#zones-map .leaflet-overlay-pane path.zone")).to_have_count(2)

    with app.app_context():
        polygon, circle = db.session.execute(sa.select(Zone).where(Zone.supervisee_id == scene.person_id)
                                             .order_by(Zone.id)).scalars()
        assert (polygon.kind, polygon.name, polygon.geometry["type"]) == ("exclusion", "网吧一条街", "Polygon")
        ring = polygon.geometry["coordinates"][0]
        assert len(ring) == 5 and ring[0] == ring[-1]
        assert all(geodesic((lat, lon), (scene.station.lat, scene.station.lon)).m < 2_000 for lon, lat in ring)
        assert (circle.kind, circle.name, circle.geometry["radius_m"]) == ("permitted", "居住地", radius)
        centre = circle.geometry["center"]
        assert geodesic((centre[1], centre[0]), (scene.station.lat, scene.station.lon)).m < 2_000

    page.click(f"#zone-{polygon.id} .retire button")
    expect(page.locator("#zone-list tr")).to_have_count(1)
    expect(page.locator(f"#zone-{circle.id}")).to_be_visible()
    with app.app_context():
        assert db.session.get(Zone, polygon.id).active is False and db.session.get(Zone, circle.id).active is True
    assert page.csp_violations == [] and page.script_errors == []


def test_an_officer_approves_a_leave_asked_without_an_area_by_drawing_a_circle(app, page, clock, make):
    scene = make.scene(station=True, phone=False)
    start = clock() + timedelta(days=1)
    request = LeaveRequest(supervisee_id=scene.person_id, office_id=scene.office.id, destination_name="杭州市西湖区 某某医院",
                           reason="就医", start_at=start, end_at=start + timedelta(days=2), days=2,
                           approver_role="officer", status="pending", created_at=clock())
    make.add(request)
    log_in(page, clock, scene.officer)
    page.goto("/leave")
    page.click(f"#draw-area-{request.id}")
    expect(page.locator("#leave-map")).to_have_attribute("data-drawn", "0")
    page.click("#draw-circle")
    _click_map(page, "#leave-map", [(250, 250), (330, 250)])
    radius = float(page.input_value("#approve-form input[name=radius_m]"))
    page.click("#approve-with-area")
    expect(page.locator(f"#leave-{request.id} .state")).to_have_attribute("data-state", "approved")
    with app.app_context():
        row = db.session.get(LeaveRequest, request.id)
        assert (row.status, row.destination_geometry["type"], row.destination_geometry["radius_m"]) == (
            "approved", "Circle", radius)
        zone = db.session.execute(sa.select(Zone).where(Zone.leave_request_id == request.id)).scalars().first()
        assert zone.geometry == row.destination_geometry
    assert page.csp_violations == [] and page.script_errors == []
