"""Leave approvals in the console: scope, order, the tier rule said in words, decisions through the service."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.database import db
from correction.leave.models import LeaveRequest
from correction.locations.models import Zone
from tests.console.test_pages import csrf_of, html, logged_in

HANGZHOU = {"type": "Circle", "center": [120.1551, 30.2741], "radius_m": 20_000}


def leave(make, clock, person, *, days: int, status: str = "pending", asked_hours_ago: int = 1,
          destination: str = "杭州", geometry: dict | None = HANGZHOU) -> int:
    """A leave request of ``person`` (a Supervisee) of ``days`` days, starting tomorrow; its id."""
    start = clock() + timedelta(days=1)
    row = LeaveRequest(supervisee_id=person.id, office_id=person.office_id, destination_name=destination,
                       destination_geometry=geometry, reason="探亲", start_at=start,
                       end_at=start + timedelta(days=days), days=days,
                       approver_role="officer" if days <= 7 else "supervisor", status=status,
                       created_at=clock() - timedelta(hours=asked_hours_ago))
    make.add(row)
    return row.id


def cards(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<section class="card leave \w+" id="leave-(\d+)"', page)]


def leave_audit(app) -> list[tuple[str, str, int | None]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(AuditEntry.action, AuditEntry.outcome, AuditEntry.target_id)
            .where(AuditEntry.action.like("leave.%")).order_by(AuditEntry.id))]


def test_the_list_is_the_office_s_pending_first_oldest_first_with_the_rule_in_words(app, client, clock, make):
    org = make.org()
    person = org.person.supervisee
    short_new = leave(make, clock, person, days=3, asked_hours_ago=1)
    long_old = leave(make, clock, person, days=10, asked_hours_ago=5, destination="上海")
    decided = leave(make, clock, person, days=2, status="approved", asked_hours_ago=9)
    sister = leave(make, clock, org.sister_person.supervisee, days=2)
    logged_in(client, clock, org.officer)
    page = html(client.get("/leave"))
    assert cards(page) == [long_old, short_new, decided]  # not the sister office's
    long_card = page[page.index(f'id="leave-{long_old}"'):page.index(f'id="leave-{short_new}"')]
    assert "8至30天的请假由区司法局审批" in long_card and "您无权审批" in long_card
    assert "/approve" not in long_card  # no buttons where the service would refuse
    short_card = page[page.index(f'id="leave-{short_new}"'):page.index(f'id="leave-{decided}"')]
    assert "7天以内的请假由司法所审批" in short_card and "您可以审批此申请" in short_card
    assert "探亲" in short_card and "2026-11-26 10:00" in short_card  # local time (Asia/Shanghai)
    assert cards(html(client.get("/leave?status=approved"))) == [decided]
    assert client.get("/leave?status=nonsense").status_code == 422
    assert client.get(f"/leave?supervisee_id={org.sister_person.supervisee.id}").status_code == 200
    assert cards(html(client.get(f"/leave?supervisee_id={org.sister_person.supervisee.id}"))) == []
    assert sister not in cards(html(client.get(f"/leave?office_id={org.sister_office.id}")))
    with app.app_context():
        details = db.session.execute(sa.select(AuditEntry.details).where(AuditEntry.action == "leave.list")
                                     .order_by(AuditEntry.id.desc())).scalars().first()
    assert details == {"office_id": org.sister_office.id}


def test_a_supervisor_sees_the_bureau_and_may_decide_the_long_leave(client, clock, make):
    org = make.org()
    long_one = leave(make, clock, org.person.supervisee, days=12)
    sister = leave(make, clock, org.sister_person.supervisee, days=2)
    foreign = leave(make, clock, org.foreign_person.supervisee, days=2)
    logged_in(client, clock, org.supervisor)
    page = html(client.get("/leave"))
    assert set(cards(page)) == {long_one, sister} and foreign not in cards(page)
    assert "您可以审批此申请" in page[page.index(f'id="leave-{long_one}"'):]
    assert cards(html(client.get(f"/leave?office_id={org.sister_office.id}"))) == [sister]


def test_decisions_go_through_the_service_with_its_refusals_and_audit(app, client, clock, make):
    org = make.org()
    person = org.person.supervisee
    short = leave(make, clock, person, days=3)
    long_one = leave(make, clock, person, days=10)
    sister = leave(make, clock, org.sister_person.supervisee, days=2)
    logged_in(client, clock, org.officer)
    token = csrf_of(client, "/leave")

    approved = client.post(f"/leave/{short}/approve", data={"csrf_token": token, "note": "按时销假"})
    assert approved.status_code == 303 and approved.headers["Location"] == "/leave"
    again = client.post(f"/leave/{short}/reject", data={"csrf_token": token, "note": "重复"})
    assert again.status_code == 409 and "该申请已审批" in html(again)
    not_mine = client.post(f"/leave/{long_one}/approve", data={"csrf_token": token})
    assert not_mine.status_code == 403 and "您无权审批" in html(not_mine)
    no_reason = client.post(f"/leave/{long_one}/reject", data={"csrf_token": token, "note": "  "})
    assert no_reason.status_code == 422
    other_office = client.post(f"/leave/{sister}/approve", data={"csrf_token": token})
    assert other_office.status_code == 404 and "该页面不存在，或您无权查看" in html(other_office)
    assert client.post(f"/leave/{short}/approve", data={}).status_code == 400  # no CSRF token

    with app.app_context():
        rows = {row.id: row for row in db.session.execute(sa.select(LeaveRequest)).scalars()}
        zones = db.session.execute(sa.select(sa.func.count()).select_from(Zone)
                                   .where(Zone.leave_request_id == short)).scalar_one()
    assert (rows[short].status, rows[short].decision_note, rows[short].decided_by) == (
        "approved", "按时销假", org.officer.officer.id)
    assert zones >= 1  # the destination is a permitted area while the leave runs
    assert rows[long_one].status == "pending" and rows[sister].status == "pending"
    assert leave_audit(app)[1:] == [
        ("leave.approve", "ok", short), ("leave.reject", "leave_already_decided", short),
        ("leave.approve", "bureau_approval_required", long_one), ("leave.reject", "validation_error", long_one),
        ("leave.approve", "leave_not_found", sister)]

    client.post("/logout", data={"csrf_token": token})
    logged_in(client, clock, org.supervisor)
    token = csrf_of(client, "/leave")
    rejected = client.post(f"/leave/{long_one}/reject", data={"csrf_token": token, "note": "时间过长，请缩短"})
    assert rejected.status_code == 303
    with app.app_context():
        row = db.session.get(LeaveRequest, long_one)
        assert (row.status, row.decision_note, row.decided_by) == ("rejected", "时间过长，请缩短",
                                                                 org.supervisor.officer.id)


def test_a_request_without_an_area_is_approved_from_its_page_with_the_area_drawn(app, client, clock, make):
    org = make.org()
    bare = leave(make, clock, org.person.supervisee, days=2, geometry=None)
    sister = leave(make, clock, org.sister_person.supervisee, days=2, geometry=None)
    logged_in(client, clock, org.officer)
    card = html(client.get("/leave"))
    assert f'href="/leave/{bare}/approve"' in card and "划定目的地范围后批准" in card
    page = html(client.get(f"/leave/{bare}/approve"))
    assert 'id="leave-map"' in page and 'data-draw="approve-form"' in page and 'name="geometry"' in page
    assert client.get(f"/leave/{sister}/approve").status_code == 404
    token = csrf_of(client, f"/leave/{bare}/approve")

    not_drawn = client.post(f"/leave/{bare}/approve", data={"csrf_token": token, "geometry": ""})
    assert not_drawn.status_code == 422
    no_field = client.post(f"/leave/{bare}/approve", data={"csrf_token": token})
    assert no_field.status_code == 422 and "请在地图上划定目的地范围后再批准此申请" in html(no_field)
    bad = client.post(f"/leave/{bare}/approve", data={"csrf_token": token, "geometry": '{"type": "Point"}'})
    assert bad.status_code == 422
    assert leave_row_state(app, bare) == ("pending", None, 0)

    done = client.post(f"/leave/{bare}/approve", data={"csrf_token": token, "geometry": json.dumps(HANGZHOU)})
    assert done.status_code == 303 and done.headers["Location"] == "/leave"
    assert leave_row_state(app, bare) == ("approved", HANGZHOU, 1)  # no home area here: no route
    assert leave_audit(app)[-1] == ("leave.approve", "ok", bare)
    with app.app_context():  # as the API's approval says it: that the area was set, never where
        assert db.session.execute(sa.select(AuditEntry.details).where(
            AuditEntry.action == "leave.approve", AuditEntry.target_id == bare).order_by(AuditEntry.id.desc())
        ).scalars().first() == {"destination_area_set_at_approval": True}


def leave_row_state(app, leave_id):
    with app.app_context():
        row = db.session.get(LeaveRequest, leave_id)
        zones = db.session.execute(sa.select(sa.func.count()).select_from(Zone)
                                   .where(Zone.leave_request_id == leave_id)).scalar_one()
        return row.status, row.destination_geometry, zones
