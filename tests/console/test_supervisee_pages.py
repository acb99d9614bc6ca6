"""The supervisees list and a supervisee's page over HTTP: search, filters, paging, scope, the two acts."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.auth.models import AuthToken
from correction.checkins.models import SpotCheck
from correction.database import db
from correction.leave.models import LeaveRequest
from correction.people.models import Device
from tests.console.test_pages import csrf_of, html, logged_in
from tests.factories import alert_row, checkin_row, fix_row, local, spot_row, valid_national_id

ROW = re.compile(r'<tr class="supervisee colour-(\w+)" id="supervisee-(\d+)">')


def listed(client, query: str = "") -> list[int]:
    """The ids of the supervisees the list shows for ``query``."""
    return [int(i) for _c, i in ROW.findall(html(client.get(f"/supervisees{query}")))]


def audits(app, action: str) -> list[tuple]:
    with app.app_context():
        return db.session.execute(sa.select(AuditEntry.outcome, AuditEntry.target_id, AuditEntry.details)
                                  .where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def test_search_by_name_phone_or_the_id_numbers_last_four(app, client, clock, make):
    scene = make.scene(phone=False)
    office, officer = scene.office, scene.officer.officer
    wang = make.supervisee(office, officer, name="王小明", phone="13912345678", national_id=valid_national_id(7001))
    li = make.supervisee(office, officer, name="李四", phone="13987654321", national_id=valid_national_id(7002))
    logged_in(client, clock, scene.officer)
    wang_id, li_id = wang.supervisee.id, li.supervisee.id
    assert listed(client) == [scene.person_id, wang_id, li_id]
    assert listed(client, "?q=小明") == [wang_id]
    assert listed(client, "?q=98765") == [li_id]  # part of a phone
    last4 = valid_national_id(7001)[-4:]
    assert listed(client, f"?q={last4}") == [wang_id]
    fullwidth = last4.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert listed(client, f"?q={fullwidth}") == [wang_id]  # as a Chinese input method types it
    assert listed(client, "?q=100%25") == []  # a wildcard is a character like any other
    page = html(client.get("/supervisees?q=小明"))
    assert valid_national_id(7001) not in page and last4 not in page  # the list never shows the ID number
    # the whole number is refused: it would sit in the address and the audit trail
    whole = client.get(f"/supervisees?q={valid_national_id(7001)}")
    assert whole.status_code == 422 and "身份证号码的后四位" in html(whole)
    entries = audits(app, "supervisee.list")
    assert [e.details for e in entries if e.outcome == "ok"][1:4] == [{"q": "小明"}, {"q": "98765"}, {"q": last4}]
    assert all(valid_national_id(7001) not in str(e.details) for e in entries)


def test_each_row_has_its_colour_level_last_check_in_and_fix_and_open_alerts(app, client, clock, make):
    scene = make.scene(phone=False, other="strict")
    person, other = scene.person.supervisee, scene.other.supervisee
    red = make.supervisee(scene.office, scene.officer.officer, level="lenient").supervisee
    now = clock()
    make.add(checkin_row(person, "remote", now - timedelta(hours=1), "remote:2026-11-23",
                         received_at=now - timedelta(hours=5)),
             checkin_row(person, "remote", now, "remote:x", outcome="refused", received_at=now - timedelta(hours=1)),
             fix_row(person, now - timedelta(minutes=20)), fix_row(person, now - timedelta(hours=3)),
             alert_row(other, "signal_lost", now - timedelta(hours=2)),
             alert_row(other, "zone_exit", now - timedelta(hours=9), ack_minutes=5),
             alert_row(other, "zone_exit", now - timedelta(days=20), ack_minutes=1, resolved_minutes=2, key="old"),
             alert_row(red, "zone_exit", now - timedelta(hours=1), severity="critical"))
    logged_in(client, clock, scene.officer)
    page = html(client.get("/supervisees"))
    rows = {int(i): page[page.index(f'id="supervisee-{i}"'):].split("</tr>")[0] for _c, i in ROW.findall(page)}
    assert dict((int(i), c) for c, i in ROW.findall(page)) == {person.id: "green", other.id: "yellow", red.id: "red"}
    assert "2026-11-25 05:00" in rows[person.id]  # the accepted check-in, local time; not the refused one
    assert "2026-11-25 09:40" in rows[person.id]  # the last fix
    assert re.search(r'class="count">0<', rows[person.id]) and re.search(r'class="count">2<', rows[other.id])
    assert "严格" in rows[other.id] and "宽松" in rows[red.id] and "黄码" in rows[other.id]
    assert listed(client, "?colour=yellow") == [other.id]
    assert listed(client, "?colour=red&level=lenient") == [red.id]
    assert listed(client, "?colour=red&level=strict") == []
    assert listed(client, "?level=normal") == [person.id]
    assert client.get("/supervisees?colour=purple").status_code == 422


def test_the_list_is_paged_by_id_and_a_foreign_cursor_is_refused(client, clock, make):
    scene = make.scene(phone=False, other="normal")
    third = make.supervisee(scene.office, scene.officer.officer).supervisee
    logged_in(client, clock, scene.officer)
    page = html(client.get("/supervisees?limit=2&level=normal"))
    assert [int(i) for _c, i in ROW.findall(page)] == [scene.person_id, scene.other.supervisee.id]
    more = re.search(r'href="([^"]+)" id="more"', page).group(1).replace("&amp;", "&")
    assert "level=normal" in more
    second = html(client.get(more))
    assert [int(i) for _c, i in ROW.findall(second)] == [third.id] and 'id="more"' not in second
    assert client.get("/supervisees?cursor=bm9wZQ").status_code == 422


def test_an_officer_sees_their_office_and_a_supervisor_their_bureau(app, client, clock, make):
    org = make.org()
    mine, sister, foreign = org.person.supervisee.id, org.sister_person.supervisee.id, org.foreign_person.supervisee.id
    logged_in(client, clock, org.officer)
    assert listed(client) == [mine]
    assert listed(client, f"?office_id={org.sister_office.id}") == []
    assert client.get(f"/supervisees/{mine}").status_code == 200
    token = csrf_of(client, "/supervisees")
    for other in (sister, foreign, 2_000_000):
        response = client.get(f"/supervisees/{other}")
        assert response.status_code == 404 and "该页面不存在" in html(response)
        assert client.get(f"/supervisees/{other}/device-reset").status_code == 404
        assert client.post(f"/supervisees/{other}/device-reset", data={"csrf_token": token}).status_code == 404
        assert client.post(f"/supervisees/{other}/spot-check", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(SpotCheck)).scalar_one() == 0
    client.post("/logout", data={"csrf_token": token})
    logged_in(client, clock, org.supervisor)
    assert listed(client) == [mine, sister]
    assert listed(client, f"?office_id={org.sister_office.id}") == [sister]
    assert listed(client, f"?office_id={org.foreign_office.id}") == []
    page = html(client.get("/supervisees"))
    assert org.office.name in page and org.sister_office.name in page  # the office filter and column
    assert client.get(f"/supervisees/{sister}").status_code == 200
    assert client.get(f"/supervisees/{foreign}").status_code == 404


def test_a_supervisees_page_shows_who_the_week_the_timeline_points_and_leave(app, client, clock, make):
    scene = make.scene("strict", phone=True)
    person = scene.person.supervisee
    now = clock()  # Wednesday 10:00 local
    make.add(checkin_row(person, "remote", local(2026, 11, 23, 20), "remote:2026-11-23"),
             spot_row(person, scene.officer.officer.id, now - timedelta(days=1), "missed"),
             LeaveRequest(supervisee_id=person.id, office_id=person.office_id, destination_name="杭州市西湖区",
                          reason="探亲", start_at=now + timedelta(days=2), end_at=now + timedelta(days=4), days=3,
                          approver_role="officer", status="pending", created_at=now))
    for n in range(22):
        make.give(scene.person, n + 1)
    logged_in(client, clock, scene.officer)
    response = client.get(f"/supervisees/{person.id}")
    page = html(response)
    assert person.name in page and person.phone in page and person.national_id_masked in page
    assert valid_national_id(person.id) not in page
    assert 'id="colour">黄码' in page  # a missed spot check in the look-back
    assert "已绑定手机" in page and "城中街道司法所" in page and "严格" in page
    assert re.search(r'id="ingest-key">\s*无', page)
    assert client.post("/api/v1/me/ingest-key", headers=scene.phone).status_code in (200, 201)
    assert re.search(r'id="ingest-key">\s*有效至 2027-02-23 10:0\d', html(client.get(f"/supervisees/{person.id}")))
    week = page[page.index('id="week"'):page.index('id="timeline"')]
    days = re.findall(r'<tr class="window window-(\w+)"><td>([^<]+)</td><td>([^<]+)</td>', week)
    remote = [(status, opens[:10]) for status, kind, opens in days if kind == "远程报到"]
    assert remote == [("satisfied", "2026-11-23"), ("missed", "2026-11-24"), ("open", "2026-11-25"),
                      ("upcoming", "2026-11-26"), ("upcoming", "2026-11-27"), ("upcoming", "2026-11-28"),
                      ("upcoming", "2026-11-29")]
    assert ("open", "2026-11-23") in [(s, o[:10]) for s, k, o in days if k == "到所报到"]  # the weekly station window
    assert 'id="balance">253<' in page  # 1 + 2 + ... + 22
    assert len(re.findall(r'<tr class="entry"', page)) == 20
    ledger_more = re.search(r'href="([^"]+)" id="more-ledger"', page).group(1).replace("&amp;", "&")
    assert len(re.findall(r'<tr class="entry"', html(client.get(ledger_more)))) == 2
    assert "杭州市西湖区" in page and "待审批" in page[page.index('id="leave"'):]
    assert len(re.findall(r'<tr class="event ', page)) == 20 and 'id="more-timeline"' in page
    timeline_more = re.search(r'href="([^"]+)" id="more-timeline"', page).group(1).replace("&amp;", "&")
    rest = html(client.get(timeline_more))
    assert len(re.findall(r'<tr class="event ', rest)) == 5  # 22 points, the check-in, the spot check, the leave
    assert client.get(f"/supervisees/{person.id}?ledger=bm9wZQ").status_code == 422
    assert [(o, t) for o, t, _d in audits(app, "supervisee.read")][:1] == [("ok", person.id)]


def test_spot_check_now_is_created_shown_audited_and_refused_while_one_waits(app, client, clock, make):
    scene = make.scene(phone=False)
    person_id = scene.person_id
    logged_in(client, clock, scene.officer)
    token = csrf_of(client, f"/supervisees/{person_id}")
    assert client.post(f"/supervisees/{person_id}/spot-check", data={"minutes": "30"}).status_code == 400  # no CSRF
    too_long = client.post(f"/supervisees/{person_id}/spot-check", data={"csrf_token": token, "minutes": "500"})
    assert too_long.status_code == 422 and "回复时限" in html(too_long)
    done = client.post(f"/supervisees/{person_id}/spot-check", data={"csrf_token": token, "minutes": "30"})
    assert done.status_code == 303 and done.headers["Location"] == f"/supervisees/{person_id}"
    page = html(client.get(done.headers["Location"]))
    assert "点验已发出：请在 2026-11-25 10:30 前回复" in page  # the flash, local time
    with app.app_context():
        spot = db.session.execute(sa.select(SpotCheck)).scalar_one()
        assert (spot.supervisee_id, spot.status, spot.due_at) == (person_id, "pending", clock() + timedelta(minutes=30))
    assert f'id="spot-check-{spot.id}"' in page and "2026-11-25 10:30" in page
    again = client.post(f"/supervisees/{person_id}/spot-check", data={"csrf_token": token})
    assert again.status_code == 409 and "已有一次点验在等待" in html(again)
    assert f'href="/supervisees/{person_id}" id="back"' in html(again)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(SpotCheck)).scalar_one() == 1
    assert [(o, t) for o, t, _d in audits(app, "spot_check.create")] == [
        ("validation_error", person_id), ("ok", person_id), ("spot_check_pending", person_id)]


def test_device_reset_asks_first_then_unbinds_the_phone_and_ends_its_logins(app, client, clock, make):
    scene = make.scene(phone=True)
    person_id = scene.person_id
    logged_in(client, clock, scene.officer)
    confirm = html(client.get(f"/supervisees/{person_id}/device-reset"))
    assert 'id="device-reset"' in confirm
    with app.app_context():
        assert db.session.execute(sa.select(Device.active).where(Device.supervisee_id == person_id)).scalar_one()
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm).group(1)
    done = client.post(f"/supervisees/{person_id}/device-reset", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"] == f"/supervisees/{person_id}"
    page = html(client.get(done.headers["Location"]))
    assert "手机已解绑" in page and "未绑定手机" in page
    with app.app_context():
        assert not db.session.execute(sa.select(Device.active).where(Device.supervisee_id == person_id)).scalar_one()
        assert db.session.execute(sa.select(AuthToken.revoked_at).where(AuthToken.supervisee_id == person_id)
                                  ).scalar_one() is not None
    assert [(o, t) for o, t, _d in audits(app, "supervisee.device_reset")] == [("ok", person_id)]
    assert client.get("/api/v1/me", headers=scene.phone).status_code == 401


def test_the_week_shows_a_stepped_up_period_and_which_of_its_windows_were_met(app, client, clock, make):
    org = make.org(logins=True)
    person = org.person.supervisee
    declared = client.post("/api/v1/supervision-periods", headers=org.supervisor_headers, json={
        "name": "亚运会前加强监管", "reason": "重大活动安保", "starts_on": "2026-11-25", "ends_on": "2026-11-27",
        "windows": [{"opens": "08:00", "closes": "12:00"}, {"opens": "14:00", "closes": "18:00"}]})
    assert declared.status_code == 201, declared.get_json()
    make.add(checkin_row(person, "remote", local(2026, 11, 29, 20), "remote:2026-11-23",
                         received_at=local(2026, 11, 25, 9)))
    clock.advance(hours=9)  # Wednesday 19:00: the afternoon window closed unmet
    logged_in(client, clock, org.officer)
    page = html(client.get(f"/supervisees/{person.id}"))
    assert f'id="period-{declared.get_json()["id"]}"' in page and "亚运会前加强监管" in page
    week = page[page.index('id="week"'):page.index('id="timeline"')]
    period = re.findall(r'<tr class="window window-(\w+)"><td>加强监管报到</td><td>([^<]+)</td>', week)
    assert period == [("satisfied", "2026-11-25 08:00"), ("missed", "2026-11-25 14:00"),
                      ("upcoming", "2026-11-26 08:00"), ("upcoming", "2026-11-26 14:00"),
                      ("upcoming", "2026-11-27 08:00"), ("upcoming", "2026-11-27 14:00")]
    assert re.search(r'<tr class="window window-satisfied"><td>远程报到</td><td>2026-11-23 08:00', week)


def test_the_pages_carry_no_inline_code_and_say_the_location_keys_state(client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    for path in ("/supervisees", f"/supervisees/{scene.person_id}", f"/supervisees/{scene.person_id}/device-reset"):
        response = client.get(path)
        assert "script-src 'self';" in response.headers["Content-Security-Policy"]
        page = html(response)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
        assert not re.search(r"\son[a-z]+=|hx-on|\sstyle=", page), "inline handler or style"
    english = html(client.get(f"/supervisees/{scene.person_id}", headers={"Accept-Language": "en"}))
    assert re.search(r'id="ingest-key">\s*None', english) and "No phone bound" in english
