"""The console over HTTP (no browser): session cookie, CSRF, CSP, scope, audit, idle lock, languages."""
from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.audit.models import AuditEntry
from correction.auth.models import AuthToken
from correction.console import SESSION_COOKIE
from correction.database import db
from tests.assertions import decode_png
from tests.factories import alert_row

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, path: str = "/") -> str:
    page = client.get(path, follow_redirects=True)  # a signed-in officer at / is sent on to the queue
    return CSRF.search(page.get_data(as_text=True)).group(1)


def console_login(client, clock, login, totp: str | None = None, password: str | None = None):
    token = csrf_of(client)
    return client.post("/", data={"csrf_token": token, "username": login.officer.username,
                                  "password": password or login.password,
                                  "totp": pyotp.TOTP(login.totp_secret).at(clock()) if totp is None else totp})


def logged_in(client, clock, login):
    response = console_login(client, clock, login)
    assert response.status_code == 303 and response.headers["Location"] == "/alerts", response.get_data(as_text=True)
    clock.advance(seconds=30)
    return response


def html(response) -> str:
    assert response.mimetype == "text/html", response.mimetype
    return response.get_data(as_text=True)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def test_the_site_root_is_the_login_page_in_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    page = html(response)
    assert '<html lang="zh-CN">' in page and "登录" in page and "用户名" in page


def test_english_by_the_browsers_language_and_by_the_switch(client):
    assert "Username" in html(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert "用户名" in html(client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}))
    switched = client.get("/lang/en?next=/")
    assert switched.status_code == 303 and switched.headers["Location"] == "/"
    assert "Username" in html(client.get("/", headers={"Accept-Language": "zh-CN"}))
    assert client.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"


def test_login_sets_an_httponly_strict_cookie_with_an_api_token(app, client, clock, make):
    scene = make.scene(phone=False)
    response = logged_in(client, clock, scene.officer)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    # the same opaque token the API issues: it works as a bearer token too
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["officer"]["id"] == scene.officer.officer.id
    assert "auth.officer_login" in audit_actions(app)


def test_the_cookie_is_secure_over_tls(client, clock, make):
    scene = make.scene(phone=False)
    client.get("/", base_url="https://localhost")
    page = client.get("/", base_url="https://localhost").get_data(as_text=True)
    response = client.post("/", base_url="https://localhost", data={
        "csrf_token": CSRF.search(page).group(1), "username": scene.officer.officer.username,
        "password": scene.officer.password, "totp": pyotp.TOTP(scene.officer.totp_secret).at(clock())})
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    assert all("Secure" in c for c in cookies if c.startswith((SESSION_COOKIE, "console_csrf"))), cookies


def test_a_wrong_code_shows_the_login_form_again_and_counts(app, client, clock, make):
    scene = make.scene(phone=False)
    response = console_login(client, clock, scene.officer, totp="000000")
    assert response.status_code == 401
    page = html(response)
    assert 'id="login"' in page and "用户名、密码或验证码不正确" in page
    assert scene.officer.password not in page
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuthToken)).scalar_one() == 0


def test_repeated_failures_show_the_lockout_plainly(client, clock, make, settings_overrides):
    scene = make.scene(phone=False)
    for _ in range(5):
        assert console_login(client, clock, scene.officer, totp="000000").status_code == 401
    locked = console_login(client, clock, scene.officer)
    assert locked.status_code == 423
    assert "已锁定 10 分钟" in html(locked)


def test_a_form_posted_without_its_csrf_token_is_refused(app, client, clock, make):
    scene = make.scene(phone=False)
    response = client.post("/", data={"username": scene.officer.officer.username,
                                      "password": scene.officer.password,
                                      "totp": pyotp.TOTP(scene.officer.totp_secret).at(clock())})
    assert response.status_code == 400 and "表单被拒绝" in html(response)
    logged_in(client, clock, scene.officer)
    with app.app_context():
        alert = alert_row(scene.person.supervisee, "missed_checkin", clock())
        db.session.add(alert)
        db.session.commit()
        alert_id = alert.id
    refused = client.post(f"/alerts/{alert_id}/acknowledge")
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(Alert, alert_id).status == "open"


def test_the_api_needs_no_csrf_token(client, make):
    scene = make.scene(phone=False, officer_login=True)
    assert client.post("/api/v1/auth/logout", headers=scene.headers).status_code == 204


def test_the_api_does_not_open_the_console_cookie_session(app, client):
    assert client.get("/").status_code == 200  # the login page puts a CSRF secret in the cookie session
    cookie = {"Cookie": "console_csrf=" + client.get_cookie("console_csrf").value}
    sessions = app.session_interface
    with app.test_request_context("/api/v1/livez", headers=cookie) as api_request:
        assert sessions.is_null_session(sessions.open_session(app, api_request.request))
    with app.test_request_context("/", headers=cookie) as page_request:
        opened = sessions.open_session(app, page_request.request)
        assert not sessions.is_null_session(opened) and "csrf_token" in opened
    answer = client.get("/api/v1/livez")
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers


def test_console_pages_carry_a_strict_csp_and_no_inline_code(client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    for path in ("/", "/alerts"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
        page = html(response)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
        assert not re.search(r"\son[a-z]+=|hx-on", page), "inline handler"
        assert not re.search(r"\sstyle=", page), "inline style"
    assert client.get("/api/v1/health").headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_pages_need_a_session(client):
    response = client.get("/alerts")
    assert response.status_code == 303 and response.headers["Location"] == "/?m=login"
    polled = client.get("/alerts/rows", headers={"HX-Request": "true"})
    assert polled.status_code == 204 and polled.headers["HX-Redirect"] == "/?m=login"


def test_the_queue_lists_unresolved_alerts_oldest_first_with_names(app, client, clock, make):
    scene = make.scene(phone=False, other="normal")
    person, other = scene.person.supervisee, scene.other.supervisee
    make.add(alert_row(person, "zone_exit", clock(), severity="high", key="newer"),
             alert_row(other, "missed_checkin", clock().replace(hour=1), key="older"),
             alert_row(person, "signal_lost", clock().replace(hour=0), key="done", ack_minutes=1, resolved_minutes=2))
    logged_in(client, clock, scene.officer)
    page = html(client.get("/alerts"))
    page = page[page.index('id="queue-rows"'):]
    rows = re.findall(r'<tr class="alert [^"]*" id="alert-(\d+)"', page)
    assert len(rows) == 2  # the resolved one is not in the working list
    assert page.index(other.name) < page.index(person.name)  # oldest first
    assert "离开活动区域" in page and "未按时报到" in page
    only_resolved = html(client.get("/alerts?status=resolved"))
    assert len(re.findall(r'id="alert-\d+"', only_resolved)) == 1 and "失联" in only_resolved
    assert len(re.findall(r'id="alert-\d+"', html(client.get("/alerts?type=zone_exit&severity=")))) == 1
    assert client.get("/alerts?type=nonsense").status_code == 422


def test_acknowledge_and_resolve_go_through_the_workflow_and_the_audit(app, client, clock, make):
    scene = make.scene(phone=False)
    make.add(alert_row(scene.person.supervisee, "signal_lost", clock()))
    logged_in(client, clock, scene.officer)
    with app.app_context():
        alert_id = db.session.execute(sa.select(Alert.id)).scalar_one()
    token = csrf_of(client, f"/alerts/{alert_id}")
    acked = client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert acked.status_code == 303 and acked.headers["Location"] == f"/alerts/{alert_id}"
    again = client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert again.status_code == 409 and "已被接收" in html(again)
    bad = client.post(f"/alerts/{alert_id}/resolve", data={"csrf_token": token, "outcome": "admonition", "note": ""})
    assert bad.status_code == 422
    done = client.post(f"/alerts/{alert_id}/resolve", data={"csrf_token": token, "outcome": "admonition",
                                                           "note": "训诫已送达"})
    assert done.status_code == 303 and done.headers["Location"] == "/alerts"
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert (alert.status, alert.outcome, alert.note) == ("resolved", "admonition", "训诫已送达")
        assert "第三十四条" in alert.article
        entries = db.session.execute(sa.select(AuditEntry.action, AuditEntry.outcome, AuditEntry.target_id)
                                     .where(AuditEntry.action.like("alert.%")).order_by(AuditEntry.id)).all()
    assert [(a, o) for a, o, _t in entries] == [
        ("alert.read", "ok"), ("alert.acknowledge", "ok"), ("alert.acknowledge", "alert_already_acknowledged"),
        ("alert.resolve", "validation_error"), ("alert.resolve", "ok")]
    assert all(t == alert_id for _a, _o, t in entries)


def test_an_alert_of_another_office_is_the_404_page(app, client, clock, make):
    org = make.org()
    make.add(alert_row(org.foreign_person.supervisee, "zone_exit", clock()),
             alert_row(org.sister_person.supervisee, "zone_exit", clock()))
    with app.app_context():
        foreign_id, sister_id = db.session.execute(sa.select(Alert.id).order_by(Alert.id)).scalars()
    logged_in(client, clock, org.officer)
    for alert_id in (foreign_id, sister_id, 2_000_000):
        response = client.get(f"/alerts/{alert_id}")
        assert response.status_code == 404 and "该页面不存在" in html(response)
    token = csrf_of(client, "/alerts")
    assert client.post(f"/alerts/{sister_id}/acknowledge", data={"csrf_token": token}).status_code == 404
    client.post("/logout", data={"csrf_token": token})
    logged_in(client, clock, org.supervisor)  # the bureau's supervisor sees the sister office's
    assert client.get(f"/alerts/{sister_id}").status_code == 200
    assert client.get(f"/alerts/{foreign_id}").status_code == 404
    page = html(client.get("/alerts"))
    assert org.office.name in page and org.sister_office.name in page  # the office filter


def test_after_30_idle_minutes_the_next_page_is_the_login_page(app, client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    assert client.get("/alerts").status_code == 200
    clock.advance(minutes=20)
    assert client.get("/alerts/rows", headers={"HX-Request": "true"}).status_code == 200  # a poll is not activity
    clock.advance(minutes=11)
    response = client.get("/alerts")
    assert response.status_code == 303 and response.headers["Location"] == "/?m=idle"
    assert "闲置 30 分钟" in html(client.get("/?m=idle"))


def test_logout_ends_the_session(app, client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    response = client.post("/logout", data={"csrf_token": csrf_of(client, "/alerts")})
    assert response.status_code == 303 and response.headers["Location"] == "/?m=out"
    assert client.get("/alerts").headers["Location"] == "/?m=login"
    with app.app_context():
        assert db.session.execute(sa.select(AuthToken.revoked_at)).scalar_one() is not None


def test_first_login_enrols_the_totp_with_its_qr_code(app, client, clock, make):
    office = make.office()
    login = make.officer(office)
    with app.app_context():
        from correction.people.models import Officer
        db.session.execute(sa.update(Officer).values(totp_enrolled_at=None))
        db.session.commit()
    response = console_login(client, clock, login, totp="")
    assert response.status_code == 303 and response.headers["Location"] == "/enrol"
    assert client.get("/alerts").headers["Location"] == "/enrol"  # nothing else until enrolled
    page = html(client.get("/enrol"))
    assert login.totp_secret in page
    png = client.get("/enrol.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert login.totp_secret in decode_png(png.data)
    token = CSRF.search(page).group(1)
    assert client.post("/enrol", data={"csrf_token": token, "code": "000000"}).status_code == 422
    done = client.post("/enrol", data={"csrf_token": token, "code": pyotp.TOTP(login.totp_secret).at(clock())})
    assert done.status_code == 303 and done.headers["Location"] == "/alerts"
    assert client.get("/alerts").status_code == 200
    assert client.get("/enrol").status_code == 409


def test_a_password_someone_else_chose_is_changed_first(app, client, clock, make):
    scene = make.scene(phone=False)
    with app.app_context():
        from correction.people.models import Officer
        db.session.execute(sa.update(Officer).values(password_change_required=True))
        db.session.commit()
    response = logged_in_to(client, clock, scene.officer, "/password")
    assert response
    page = html(client.get("/password"))
    token = CSRF.search(page).group(1)
    short = client.post("/password", data={"csrf_token": token, "current_password": scene.officer.password,
                                           "new_password": "short"})
    assert short.status_code == 422 and "新密码太短" in html(short)
    done = client.post("/password", data={"csrf_token": token, "current_password": scene.officer.password,
                                          "new_password": "a much longer passphrase 7"})
    assert done.status_code == 303 and done.headers["Location"] == "/alerts"
    assert client.get("/alerts").status_code == 200


def logged_in_to(client, clock, login, where: str) -> bool:
    response = console_login(client, clock, login)
    clock.advance(seconds=30)
    return response.status_code == 303 and response.headers["Location"] == where


@pytest.mark.parametrize("accept, word", [("en", "Alert queue"), ("zh-CN", "预警队列")])
def test_the_queue_in_both_languages(client, clock, make, accept, word):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    assert word in html(client.get("/alerts", headers={"Accept-Language": accept}))


def test_a_tile_server_is_refused_unless_it_is_an_http_url():
    from correction.config import Settings, SettingsError

    with pytest.raises(SettingsError, match="MAP_TILE_URL"):
        Settings.from_env(environ={"CORRECTION_MAP_TILE_URL": "javascript:alert(1)"})


@pytest.mark.parametrize("settings_overrides", [{"MAP_TILE_URL": "https://tiles.office.lan/{z}/{x}/{y}.png"}])
def test_a_configured_tile_server_is_the_only_other_origin_of_images(client, settings_overrides):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.office.lan;" in csp and "script-src 'self';" in csp
