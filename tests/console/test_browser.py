"""The console in a real browser (headless Chromium): the officer's day with the alert queue."""
from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from correction.alerts.models import Alert
from correction.database import db
from tests.factories import alert_row


@pytest.fixture
def settings_overrides() -> dict:
    return {"CONSOLE_POLL_SECONDS": 1}


def log_in(page, clock, login) -> None:
    page.goto("/")
    page.fill("input[name=username]", login.officer.username)
    page.fill("input[name=password]", login.password)
    page.fill("input[name=totp]", pyotp.TOTP(login.totp_secret).at(clock()))
    page.click("#login button[type=submit]")
    expect(page).to_have_url(re.compile(r"/alerts$"))
    clock.advance(seconds=30)


def add_alert(app, make, person, clock, **evidence) -> int:
    alert = alert_row(person, "zone_exit", clock(), severity="high", key=f"zone:{clock().isoformat()}")
    alert.evidence = evidence
    make.add(alert)
    with app.app_context():
        return db.session.execute(sa.select(sa.func.max(Alert.id))).scalar_one()


def test_an_officer_logs_in_with_totp_and_lands_on_the_queue(page, clock, make):
    scene = make.scene(phone=False)
    page.goto("/")
    page.fill("input[name=username]", scene.officer.officer.username)
    page.fill("input[name=password]", scene.officer.password)
    page.fill("input[name=totp]", "000000")
    page.click("#login button[type=submit]")
    expect(page.locator("#error")).to_contain_text("验证码不正确")
    log_in(page, clock, scene.officer)
    expect(page.locator("h1")).to_have_text("预警队列")
    assert page.csp_violations == []


def test_resolving_an_alert_end_to_end_takes_it_off_the_queue(app, page, clock, make):
    scene = make.scene(phone=False)
    alert_id = add_alert(app, make, scene.person.supervisee, clock, lat=29.05, lon=119.65, accuracy_m=35.0,
                         zones=["辖区"])
    log_in(page, clock, scene.officer)
    page.click(f"#alert-{alert_id} a")
    expect(page.locator("#alert-state")).to_have_text("待处理")
    # the evidence: the fix and its accuracy circle, drawn by Leaflet on a plain background
    expect(page.locator("#evidence-map")).to_have_attribute("data-drawn", "1")
    assert page.locator("#evidence-map path.leaflet-interactive").count() == 2
    assert page.locator("#evidence-map img.leaflet-tile").count() == 0
    page.click("#acknowledge button")
    expect(page.locator("#alert-state")).to_have_text("已接收")
    page.select_option("select[name=outcome]", "admonition")
    page.fill("textarea[name=note]", "已电话联系，训诫")
    page.click("#resolve button")
    expect(page).to_have_url(re.compile(r"/alerts$"))
    expect(page.locator(f"#alert-{alert_id}")).to_have_count(0)
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert (alert.status, alert.outcome) == ("resolved", "admonition")
    assert page.csp_violations == []


def test_a_new_alert_appears_in_an_open_queue_without_reload(app, page, clock, make):
    scene = make.scene(phone=False)
    log_in(page, clock, scene.officer)
    expect(page.locator("tr.empty")).to_have_count(1)
    page.evaluate("window.stillTheSamePage = true")
    alert_id = add_alert(app, make, scene.person.supervisee, clock)
    expect(page.locator(f"#alert-{alert_id}")).to_be_visible(timeout=5_000)
    assert page.evaluate("window.stillTheSamePage") is True


def test_an_officer_of_another_office_gets_the_404_page(app, page, clock, make):
    org = make.org()
    alert_id = add_alert(app, make, org.sister_person.supervisee, clock)
    log_in(page, clock, org.officer)
    response = page.goto(f"/alerts/{alert_id}")
    assert response.status == 404
    expect(page.locator("#error-page")).to_contain_text("无权查看")


def test_a_form_posted_without_its_csrf_token_is_refused(app, page, clock, make):
    scene = make.scene(phone=False)
    alert_id = add_alert(app, make, scene.person.supervisee, clock)
    log_in(page, clock, scene.officer)
    page.goto(f"/alerts/{alert_id}")
    page.evaluate("document.querySelector('#acknowledge input[name=csrf_token]').remove()")
    page.click("#acknowledge button")
    expect(page.locator("#error-page")).to_contain_text("缺少安全令牌")
    with app.app_context():
        assert db.session.get(Alert, alert_id).status == "open"


def test_after_30_idle_minutes_the_next_click_lands_on_the_login_page(page, clock, make):
    scene = make.scene(phone=False)
    log_in(page, clock, scene.officer)
    clock.advance(minutes=31)
    page.click("nav a")
    expect(page).to_have_url(re.compile(r"/\?m=idle$"))
    expect(page.locator("#notice")).to_contain_text("闲置 30 分钟")


@pytest.mark.parametrize("browser_locale", ["en-US"])
def test_the_pages_in_english_and_back_to_chinese(page, clock, make, browser_locale):
    scene = make.scene(phone=False)
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Log in")
    log_in(page, clock, scene.officer)
    expect(page.locator("h1")).to_have_text("Alert queue")
    page.click("a[lang=zh-CN]")
    expect(page.locator("h1")).to_have_text("预警队列")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
