"""Leave approval and the station screen in a real browser (headless Chromium)."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from correction.checkins import qr
from correction.database import db
from correction.leave.models import LeaveRequest
from correction.people.models import Station
from tests.assertions import decode_png
from tests.console.test_browser import log_in
from tests.console.test_leave_pages import leave
from tests.factories import post_checkin

STEP = 30  # QR_STEP_SECONDS


def test_an_officer_approves_a_leave_in_the_browser(app, page, clock, make):
    scene = make.scene(phone=False)
    leave_id = leave(make, clock, scene.person.supervisee, days=3)
    log_in(page, clock, scene.officer)
    page.click("header nav a[href='/leave']")
    card = page.locator(f"#leave-{leave_id}")
    expect(card.locator(".rule")).to_contain_text("您可以审批此申请")
    card.locator("form.approve textarea").fill("注意按时销假")
    card.locator("form.approve button").click()
    expect(page).to_have_url(re.compile(r"/leave$"))
    expect(page.locator(f"#leave-{leave_id} .state")).to_have_text("已批准")
    with app.app_context():
        assert db.session.get(LeaveRequest, leave_id).status == "approved"
    assert page.csp_violations == []


def screen_code(tablet) -> str:
    """The QR text the screen shows, read from a screenshot as a phone's camera would (once the
    picture the screen last asked for has loaded: under load a new code's picture comes a moment later)."""
    tablet.wait_for_function("() => { const qr = document.getElementById('qr');"
                             " return qr.complete && qr.naturalWidth > 0; }")
    return decode_png(tablet.locator("#qr").screenshot())


def test_the_station_screen_s_code_checks_in_and_the_next_step_shows_the_next_code(
        app, browser, live_server, page, client, clock, make):
    scene = make.scene(station=True)
    log_in(page, clock, scene.officer)
    page.click("header nav a[href='/stations']")
    page.fill(f"#station-{scene.station.id} input[name=label]", "大厅平板")
    page.click(f"#station-{scene.station.id} form.issue button")
    link = page.locator("#pairing-link").text_content()
    assert "#" in link

    tablet_context = browser.new_context(base_url=live_server, locale="zh-CN")
    # The tablet's clock is the test's too: it is a second ahead of the server's, and moves when told.
    tablet_context.clock.install(time=clock())
    tablet_context.clock.pause_at(clock() + timedelta(seconds=1))
    tablet = tablet_context.new_page()
    try:
        tablet.goto(link)
        expect(tablet.locator("#screen")).to_have_attribute("data-state", "showing")
        expect(tablet.locator("#station-name")).to_have_text(scene.station.name)
        assert "#" not in tablet.url  # the pairing secret left the address bar
        expect(tablet.locator("#clock")).to_contain_text("10:00:31")  # local time (Asia/Shanghai)
        shown = screen_code(tablet)
        checkin = post_checkin(client, scene.phone, "station", qr_text=shown, recorded_at=clock())
        assert checkin.status_code == 201, checkin.get_json()
        assert checkin.get_json()["station_id"] == scene.station.id

        first_expiry = tablet.locator("#screen").get_attribute("data-expires-at")
        clock.advance(seconds=STEP)  # the step passes: the screen shows the code it already holds
        tablet.clock.run_for(STEP * 1000)
        expect(tablet.locator("#screen")).not_to_have_attribute("data-expires-at", first_expiry)
        following = screen_code(tablet)
        with app.app_context():
            station = db.session.get(Station, scene.station.id)
        assert following == qr.station_token(station.qr_secret, station.id, clock(), STEP)[0] != shown

        with app.app_context():  # retired: the screen says so at its next refresh
            db.session.execute(sa.update(Station).where(Station.id == station.id).values(active=False))
            db.session.commit()
        clock.advance(seconds=STEP)
        tablet.clock.run_for(STEP * 1000)  # past the refresh a little before the step's end
        expect(tablet.locator("#screen")).to_have_attribute("data-state", "station_retired")
        expect(tablet.locator("#screen-message")).to_contain_text("本报到点已停用")
        expect(tablet.locator("#qr")).to_be_hidden()
    finally:
        tablet_context.close()
    assert page.csp_violations == []
