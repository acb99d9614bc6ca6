"""The supervisees' app in a phone-sized Chromium: login, check in by camera and GPS, offline, the status code."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from correction.checkins.models import Checkin, SpotCheck
from correction.checkins.qr import render_qr
from correction.database import db
from correction.leave.models import LeaveRequest
from correction.mall.models import Order
from tests.factories import local, point_at, station_code


def log_in(phone, login) -> None:
    phone.goto("/app/")
    phone.fill("#login-form input[name=phone]", login.supervisee.phone)
    phone.fill("#login-form input[name=password]", login.password)
    phone.click("#login-form button[type=submit]")


def checkins(app, person_id: int) -> list[Checkin]:
    with app.app_context():
        return list(db.session.execute(sa.select(Checkin).where(Checkin.supervisee_id == person_id)
                                       .order_by(Checkin.id)).scalars())


def test_a_supervisee_logs_in_scans_the_station_code_and_is_checked_in(app, phone, make, clock, show_on_camera):
    scene = make.scene(station=True, phone=False)
    show_on_camera(render_qr(station_code(scene.station, clock()), "black"))
    log_in(phone, scene.person)
    station = phone.locator("#window-station-2026-11-01")
    expect(station).to_contain_text("待签到")
    station.get_by_role("button", name="扫码报到").click()
    expect(phone.locator("#message")).to_have_text("签到成功：到所报到")
    expect(station).to_contain_text("已完成")
    [row] = checkins(app, scene.person_id)
    assert (row.kind, row.outcome, row.station_id) == ("station", "accepted", scene.station.id)
    assert row.device_id is not None and row.recorded_at == clock()  # the phone's clock, at the fix
    assert phone.csp_violations == [] and phone.script_errors == []


@pytest.mark.parametrize("position", [point_at(2000.0)])
def test_a_station_check_in_2_km_away_is_refused_in_plain_words(app, phone, make, clock, show_on_camera):
    scene = make.scene(station=True, phone=False)
    show_on_camera(render_qr(station_code(scene.station, clock()), "black"))
    log_in(phone, scene.person)
    phone.get_by_role("button", name="扫码报到").click()
    expect(phone.locator("#message")).to_contain_text("您不在报到点：距离约 2000")
    [row] = checkins(app, scene.person_id)
    assert (row.outcome, row.refusal_code) == ("refused", "too_far_from_station")


def test_an_offline_check_in_waits_and_is_sent_with_its_own_time_when_the_network_returns(app, phone, make, clock):
    scene = make.scene(phone=False)
    log_in(phone, scene.person)
    remote = phone.locator("#window-remote-2026-11-23")
    expect(remote).to_contain_text("待签到")
    taken = clock()
    phone.context.set_offline(True)
    remote.get_by_role("button", name="在此签到").click()
    expect(phone.locator("#message")).to_contain_text("签到已保存")
    expect(phone.locator("#queue")).to_have_text("1 条签到等待联网后发送。")
    assert checkins(app, scene.person_id) == []

    clock.advance(minutes=3)
    phone.clock.set_fixed_time(clock())
    phone.context.set_offline(False)
    expect(phone.locator("#message")).to_contain_text("离线签到已发送")
    expect(phone.locator("#queue")).to_be_hidden()
    [row] = checkins(app, scene.person_id)
    assert (row.kind, row.outcome) == ("remote", "accepted")
    assert (row.recorded_at, row.received_at) == (taken, taken + timedelta(minutes=3))


@pytest.fixture
def settings_overrides() -> dict:
    return {"STATUS_CODE_TTL_SECONDS": 3}  # the app renews the code every 2 s (four fifths of its life)


def test_a_first_login_changes_the_password_then_the_status_code_shows_and_renews(app, phone, make):
    office = make.office()
    person = make.supervisee(office, password_change_required=True)
    asked = []
    phone.on("request", lambda request: request.url.endswith("/api/v1/me/code.png") and asked.append(request))
    log_in(phone, person)
    expect(phone.locator("#screen-password")).to_be_visible()
    phone.fill("#password-form input[name=current_password]", person.password)
    phone.fill("#password-form input[name=new_password]", "a-new-secret-42")
    phone.fill("#password-form input[name=repeat]", "a-new-secret-42")
    phone.click("#password-form button[type=submit]")
    expect(phone.locator("#screen-today")).to_be_visible()

    phone.get_by_role("link", name="矫正码").click()
    expect(phone.locator("#code-frame")).to_have_attribute("data-colour", "green")
    expect(phone.locator("#code-colour")).to_have_text("绿码：正常")
    code = phone.locator("#status-code")
    assert code.evaluate("img => img.naturalWidth") >= 200 and code.bounding_box()["width"] >= 300
    expect(code).to_have_attribute("data-renewals", "1", timeout=5000)
    assert len(asked) >= 2
    assert phone.csp_violations == [] and phone.script_errors == []


def test_the_app_installs_its_worker_which_serves_the_shell_offline(phone, live_server):
    phone.goto("/app/")
    expect(phone.locator("#screen-login h1")).to_have_text("登录")
    scope = phone.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{live_server}/app/"
    phone.reload()
    assert phone.evaluate("navigator.serviceWorker.controller !== null")  # the worker controls the page
    manifest = phone.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["start_url"] == "/app/" and manifest["display"] == "standalone"

    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("#screen-login h1")).to_have_text("登录")  # shell, script and catalog from the cache
    expect(phone.locator("#offline")).to_be_visible()
    assert phone.locator("body").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(245, 247, 250)"
    phone.locator("#language").click()
    expect(phone.locator("#screen-login h1")).to_have_text("Log in")
    expect(phone.locator("#screen-login")).to_be_visible()


def test_a_spot_check_is_answered_from_its_notification(app, phone, make, client, clock):
    scene = make.scene(officer_login=True, phone=False)
    log_in(phone, scene.person)
    expect(phone.locator("#screen-today")).to_be_visible()
    asked = client.post("/api/v1/spot-checks", headers=scene.headers, json={"supervisee_id": scene.person_id})
    assert asked.status_code == 201, asked.get_json()
    clock.advance(minutes=2)
    phone.clock.set_fixed_time(clock())
    phone.get_by_role("link", name="消息").click()
    notice = phone.locator("#notices li").first
    expect(notice).to_contain_text("实时签到")
    notice.get_by_role("button", name="回应点验").click()
    expect(phone.locator("#message")).to_have_text("签到成功：实时点验")
    expect(notice.get_by_role("button")).to_have_count(0)  # answered: the notice is read
    with app.app_context():
        spot = db.session.execute(sa.select(SpotCheck)).scalar_one()
        assert (spot.status, spot.answered_at) == ("answered", clock())
    [row] = checkins(app, scene.person_id)
    assert (row.kind, row.outcome, row.spot_check_id) == ("spot", "accepted", spot.id)


def test_a_redemption_whose_answer_is_lost_is_retried_with_its_key_and_makes_one_order(app, phone, make):
    scene = make.scene(phone=False)
    make.give(scene.person, 50)
    item_id = make.item(scene.office, name="洗衣液", cost=20, stock=5)
    keys = []

    def lose_the_first_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server makes the order; its answer never reaches the phone
            route.abort("connectionreset")
        else:
            route.continue_()

    phone.route("**/api/v1/me/orders", lambda route: lose_the_first_answer(route)
                if route.request.method == "POST" else route.continue_())
    log_in(phone, scene.person)
    phone.get_by_role("link", name="积分").click()
    expect(phone.locator("#balance")).to_have_text("当前积分：50")
    button = phone.locator(f"#item-{item_id} button")
    button.click()
    expect(button).to_have_text("确认兑换（20 积分）")
    button.click()
    expect(phone.locator("#message")).to_have_text("兑换成功：洗衣液，请到司法所领取。")
    expect(phone.locator("#balance")).to_have_text("当前积分：30")
    expect(phone.locator("#orders li")).to_have_count(1)
    assert len(keys) == 2 and keys[0] == keys[1]
    assert phone.script_errors == []
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Order)).scalar_one() == 1


def test_the_traccar_client_set_up_code_carries_a_key_the_osmand_endpoint_accepts(app, phone, make, client, clock,
                                                                                  live_server):
    scene = make.scene(phone=False)
    log_in(phone, scene.person)
    phone.get_by_role("link", name="更多").click()
    expect(phone.locator("#traccar-status")).to_have_attribute("data-active", "0")
    phone.get_by_role("button", name="生成设置二维码").click()
    expect(phone.locator("#traccar-status")).to_have_attribute("data-active", "1")
    # read the code as Traccar Client would: the picture, decoded (with the app's own decoder)
    link = phone.locator("#traccar-code").evaluate("""img => {
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(img, 0, 0);
        return jsQR(context.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height).data;
    }""")
    key = phone.locator("#traccar-key").inner_text()
    assert link == f"{live_server}/api/v1/ingest/osmand?id={key}&accuracy=high&interval=60&buffer=true"
    report = client.get(f"/api/v1/ingest/osmand?id={key}&lat=29.08&lon=119.65&accuracy=10"
                        f"&timestamp={int(clock().timestamp())}")
    assert report.status_code == 200, report.get_data(as_text=True)


def test_the_phone_keeps_its_device_id_across_logout_and_another_bound_phone_is_refused(phone, make):
    office = make.office()
    person, bound_elsewhere = make.supervisee(office), make.supervisee(office)
    make.auth.supervisee(bound_elsewhere)  # their first login bound another phone
    log_in(phone, person)
    expect(phone.locator("#screen-today")).to_be_visible()
    device = phone.evaluate("""new Promise(done => indexedDB.open('correction-app').onsuccess = e =>
        e.target.result.transaction('kv').objectStore('kv').get('device_id').onsuccess = r => done(r.target.result))""")
    phone.get_by_role("link", name="更多").click()
    phone.get_by_role("button", name="退出登录").click()
    expect(phone.locator("#screen-login")).to_be_visible()
    assert phone.evaluate("""new Promise(done => indexedDB.open('correction-app').onsuccess = e =>
        e.target.result.transaction('kv').objectStore('kv').getAll().onsuccess = r => done(r.target.result))""") \
        == [device]  # the token and the cached schedule are gone, the device id stays

    log_in(phone, person)  # the same phone: its binding holds
    expect(phone.locator("#screen-today")).to_be_visible()
    phone.get_by_role("link", name="更多").click()
    phone.get_by_role("button", name="退出登录").click()
    expect(phone.locator("#screen-login")).to_be_visible()  # log_in reloads the page: not before the logout ended
    log_in(phone, bound_elsewhere)
    expect(phone.locator("#message")).to_have_text("账号已绑定另一部手机，请联系司法所解绑。")
    expect(phone.locator("#screen-login")).to_be_visible()


def test_a_phone_reset_by_the_officer_is_sent_back_to_the_login(phone, make, client):
    scene = make.scene(officer_login=True, phone=False)
    log_in(phone, scene.person)
    expect(phone.locator("#screen-today")).to_be_visible()
    reset = client.post(f"/api/v1/supervisees/{scene.person_id}/device/reset", headers=scene.headers)
    assert reset.status_code in (200, 204), reset.get_json()
    # The next request the phone makes finds its login ended: the points screen's, unless one of the
    # app's own refreshes got there first (then the menu is already gone with the screen).
    phone.evaluate("location.hash = '#points'")
    expect(phone.locator("#screen-login")).to_be_visible()
    expect(phone.locator("#message")).to_have_text("登录已失效，请重新登录。")
    assert phone.evaluate("""new Promise(done => indexedDB.open('correction-app').onsuccess = e =>
        e.target.result.transaction('kv').objectStore('kv').get('token').onsuccess = r => done(r.target.result))""") \
        is None


def test_a_supervisee_asks_for_leave_in_the_app_and_sees_it_pending(app, phone, make, clock):
    scene = make.scene(phone=False)
    log_in(phone, scene.person)
    phone.get_by_role("link", name="更多").click()
    expect(phone.locator("#leave-empty")).to_be_visible()
    form = phone.locator("#leave-form")
    form.locator("input[name=destination_name]").fill("杭州市西湖区 某某医院")
    form.locator("input[name=start_at]").fill("2026-11-28T09:00")  # the phone's wall clock, Asia/Shanghai
    form.locator("input[name=end_at]").fill("2026-11-27T18:00")
    form.locator("textarea[name=reason]").fill("就医")
    form.get_by_role("button", name="提交申请").click()
    expect(phone.locator("#message")).to_have_text("返回时间必须晚于出发时间。")  # refused in plain words
    form.locator("input[name=end_at]").fill("2026-11-30T18:00")
    form.get_by_role("button", name="提交申请").click()
    expect(phone.locator("#message")).to_have_text("请假申请已提交，请等待司法所审批。")
    expect(phone.locator("#leave li")).to_have_count(1)
    expect(phone.locator("#leave li")).to_contain_text("杭州市西湖区 某某医院")
    expect(phone.locator("#leave li")).to_contain_text("待审批")
    with app.app_context():
        [row] = db.session.execute(sa.select(LeaveRequest).where(LeaveRequest.supervisee_id == scene.person_id)
                                   ).scalars().all()
    assert (row.status, row.destination_geometry, row.reason, row.days) == ("pending", None, "就医", 3)
    assert (row.start_at, row.end_at) == (local(2026, 11, 28, 9, 0), local(2026, 11, 30, 18, 0))
    assert phone.csp_violations == [] and phone.script_errors == []
