"""The supervisees in a real browser: find one, ask for a spot check, reset the phone."""
from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from correction.checkins.models import SpotCheck
from correction.database import db
from correction.people.models import Device
from tests.console.test_browser import log_in
from tests.factories import valid_national_id


def test_an_officer_finds_a_supervisee_by_the_id_numbers_last_four_and_opens_the_page(page, clock, make):
    scene = make.scene(phone=False)
    wanted = make.supervisee(scene.office, scene.officer.officer, name="王小明", national_id=valid_national_id(8123))
    log_in(page, clock, scene.officer)
    page.click("nav >> text=矫正对象")
    expect(page.locator("tr.supervisee")).to_have_count(2)
    page.fill("input[name=q]", valid_national_id(8123)[-4:])
    page.click("#search button")
    expect(page.locator("tr.supervisee")).to_have_count(1)
    page.click(f"#supervisee-{wanted.supervisee.id} a")
    expect(page).to_have_url(re.compile(rf"/supervisees/{wanted.supervisee.id}$"))
    expect(page.locator("h1")).to_contain_text("王小明")
    expect(page.locator("#colour")).to_have_text("绿码")
    assert page.csp_violations == []


def test_spot_check_now_from_the_page_shows_it_waiting(app, page, clock, make):
    scene = make.scene(phone=False)
    log_in(page, clock, scene.officer)
    page.goto(f"/supervisees/{scene.person_id}")
    page.fill("#spot-check input[name=minutes]", "20")
    page.click("#spot-check button")
    expect(page.locator("#flash")).to_contain_text("2026-11-25 10:20")
    with app.app_context():
        spot_id = db.session.execute(sa.select(SpotCheck.id)).scalar_one()
    expect(page.locator(f"#spot-check-{spot_id}")).to_contain_text("2026-11-25 10:20")
    page.click("#spot-check button")  # a second while the first waits: refused, plainly
    expect(page.locator("#error-page")).to_contain_text("已有一次点验在等待")
    page.click("#back")
    expect(page.locator(f"#spot-check-{spot_id}")).to_be_visible()
    assert page.csp_violations == []


def test_device_reset_asks_for_confirmation_then_unbinds(app, page, clock, make):
    scene = make.scene(phone=True)
    log_in(page, clock, scene.officer)
    page.goto(f"/supervisees/{scene.person_id}")
    expect(page.locator("#device")).to_have_text("已绑定手机")
    page.click("#reset-device")
    expect(page.locator("#confirm-reset h1")).to_contain_text(scene.person.supervisee.name)
    with app.app_context():  # nothing happens before the confirmation
        assert db.session.execute(sa.select(Device.active).where(Device.supervisee_id == scene.person_id)).scalar_one()
    page.click("#device-reset button")
    expect(page.locator("#flash")).to_contain_text("手机已解绑")
    expect(page.locator("#device")).to_have_text("未绑定手机")
    assert page.csp_violations == []
