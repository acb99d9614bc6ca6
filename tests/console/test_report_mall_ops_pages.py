"""The console's report, mall, jobs and audit pages over HTTP (no browser), and the small fixes at the root."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.database import db
from correction.mall.models import MallItem, Order, PointBalance
from correction.scheduler_state import JobRun
from jobs.schedule import schedule
from tests.console.test_pages import csrf_of, html, logged_in
from tests.factories import redeem


def audit_rows(app, prefix: str) -> list[tuple]:
    with app.app_context():
        return db.session.execute(sa.select(AuditEntry.action, AuditEntry.outcome, AuditEntry.details)
                                  .where(AuditEntry.action.like(prefix)).order_by(AuditEntry.id)).all()


def no_inline_code(page: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert not re.search(r"\son[a-z]+=|hx-on", page), "inline handler"
    assert not re.search(r"\sstyle=", page), "inline style"


# --- the root ------------------------------------------------------------------------------------------

def test_the_favicon_is_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO header


def test_the_root_sends_a_signed_in_officer_to_the_queue(client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    response = client.get("/")
    assert response.status_code == 303 and response.headers["Location"] == "/alerts"
    client.post("/logout", data={"csrf_token": csrf_of(client, "/alerts")})
    assert client.get("/").status_code == 200  # logged out: the login form


# --- reports -------------------------------------------------------------------------------------------

@pytest.fixture
def week(make):
    return make.report_week()


def test_the_report_page_shows_the_last_week_with_its_figures_and_charts(app, client, clock, week):
    logged_in(client, clock, week.officer)
    response = client.get("/reports")
    page = html(response)
    no_inline_code(page)
    assert "2026-W48" in page and 'id="provisional"' not in page
    assert '<td id="on-time-rate">76.5%</td>' in page  # 13 of 17
    assert all(name in page for name in ("张三", "李四", "王五")) and "赵六" not in page  # office B is not theirs
    chart = page[page.index('id="daily-chart"'):page.index("</svg>")]
    days = re.findall(r'<g class="day" data-date="([^"]+)" data-done="(\d+)" data-missed="(\d+)"', chart)
    assert [(int(d), int(m)) for _, d, m in days] == [(2, 0), (2, 0), (1, 1), (2, 0), (2, 0), (1, 1), (3, 2)]
    assert len(re.findall(r'<rect class="(done|missed)"', chart)) == 14
    assert '<polyline class="rate"' in page  # the eight-week trend
    assert [(a, o, d["format"]) for a, o, d in audit_rows(app, "report.%")] == [("report.read", "ok", "html")]


def test_report_files_come_from_the_api_generators(app, client, clock, week):
    logged_in(client, clock, week.officer)
    links = dict(re.findall(r'href="(/reports/file\?[^"]+)" id="download-(\w+)"', html(client.get("/reports"))))
    links = {fmt: link.replace("&amp;", "&") for link, fmt in links.items()}
    assert sorted(links) == ["csv", "pdf", "xlsx"]
    as_csv = client.get(links["csv"])
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert as_csv.headers["Content-Disposition"] == \
        f'attachment; filename="weekly-2026-W48-office-{week.office.id}.csv"'
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert sorted(row[2] for row in rows[1:]) == sorted(["张三", "李四", "王五"])
    as_xlsx = client.get(links["xlsx"])
    assert as_xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(as_xlsx.data))
    assert book.sheetnames == ["Summary", "Supervisees", "Alerts", "Daily"] and book["Supervisees"].max_row == 4
    as_pdf = client.get(links["pdf"])
    assert as_pdf.mimetype == "application/pdf" and as_pdf.data.startswith(b"%PDF")
    assert [d["format"] for a, o, d in audit_rows(app, "report.%")] == ["html", "csv", "xlsx", "pdf"]


def test_report_refusals_are_pages(client, clock, week):
    logged_in(client, clock, week.officer)
    assert client.get(f"/reports?office_id={week.office_b.id}").status_code == 404
    assert client.get(f"/reports/file?format=csv&office_id={week.office_b.id}").status_code == 404
    assert client.get("/reports/file?format=json").status_code == 422
    bad = client.get("/reports?week=2026-W60")
    assert bad.status_code == 422 and "周" in html(bad)


def test_a_supervisor_reads_the_bureau_or_one_office(client, clock, week):
    logged_in(client, clock, week.supervisor)
    bureau = html(client.get("/reports"))
    assert "赵六" in bureau and "张三" in bureau and "孙九" not in bureau  # not the other bureau's
    office_b = html(client.get(f"/reports?office_id={week.office_b.id}&week=2026-W48"))
    assert "赵六" in office_b and "张三" not in office_b
    assert client.get(f"/reports?office_id={week.other_office.id}").status_code == 404


# --- mall ----------------------------------------------------------------------------------------------

def test_orders_are_handed_over_and_cancelled_with_refusals_shown(app, client, clock, make):
    scene = make.scene()
    item_id = make.item(scene.office, name="洗衣液", cost=10, stock=5)
    make.give(scene.person, 50)
    first = redeem(client, scene.phone, item_id).get_json()["id"]
    second = redeem(client, scene.phone, item_id).get_json()["id"]
    logged_in(client, clock, scene.officer)
    page = html(client.get("/mall/orders?status=pending"))
    no_inline_code(page)
    assert f'id="order-{first}"' in page and f'id="order-{second}"' in page
    assert scene.person.supervisee.name in page and "洗衣液" in page
    token = csrf_of(client, "/mall/orders")
    back = "/mall/orders?status=pending"
    done = client.post(f"/mall/orders/{first}/fulfil", data={"csrf_token": token, "back": back})
    assert done.status_code == 303 and done.headers["Location"] == back
    again = client.post(f"/mall/orders/{first}/fulfil", data={"csrf_token": token})
    assert again.status_code == 409 and "已交付" in html(again) and 'href="/mall/orders"' in html(again)
    wrong = client.post(f"/mall/orders/{second}/fulfil", data={"csrf_token": token, "status_code": "forged"})
    assert wrong.status_code == 422 and "不是有效的矫正码" in html(wrong)
    cancelled = client.post(f"/mall/orders/{second}/cancel", data={"csrf_token": token, "note": "缺货"})
    assert cancelled.status_code == 303
    assert client.post(f"/mall/orders/{first}/cancel", data={"csrf_token": token}).status_code == 409
    with app.app_context():
        states = dict(db.session.execute(sa.select(Order.id, Order.status)).all())
        balance = db.session.get(PointBalance, scene.person_id).balance
        stock = db.session.get(MallItem, item_id).stock
    assert states == {first: "fulfilled", second: "cancelled"} and balance == 40 and stock == 4
    assert "缺货" in html(client.get("/mall/orders?status=cancelled"))
    assert [(a, o) for a, o, _ in audit_rows(app, "mall.order_%") if a != "mall.order_list"] == [
        ("mall.order_fulfil", "ok"), ("mall.order_fulfil", "order_already_fulfilled"),
        ("mall.order_fulfil", "code_invalid"), ("mall.order_cancel", "ok"),
        ("mall.order_cancel", "order_already_fulfilled")]


def test_another_offices_orders_are_not_there(app, client, clock, make):
    org = make.org()
    item_id = make.item(org.sister_office)
    make.give(org.sister_person, 50)
    phone = make.auth.supervisee(org.sister_person)
    order_id = redeem(client, phone, item_id).get_json()["id"]
    logged_in(client, clock, org.officer)
    assert f'id="order-{order_id}"' not in html(client.get("/mall/orders"))
    token = csrf_of(client, "/mall/orders")
    assert client.post(f"/mall/orders/{order_id}/fulfil", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(Order, order_id).status == "pending"


def test_items_are_created_and_changed_as_the_api_allows(app, client, clock, make):
    org = make.org()
    foreign_item = make.item(org.sister_office, name="牙膏")
    logged_in(client, clock, org.officer)
    token = csrf_of(client, "/mall/items")
    made = client.post("/mall/items", data={"csrf_token": token, "name": "毛巾", "description": "", "cost": "15",
                                            "stock": "3", "monthly_limit": ""})
    assert made.status_code == 303 and made.headers["Location"] == "/mall/items"
    refused = client.post("/mall/items", data={"csrf_token": token, "name": "肥皂", "cost": "0", "stock": "3"})
    assert refused.status_code == 422 and "积分" in html(refused)
    with app.app_context():
        item = db.session.execute(sa.select(MallItem).where(MallItem.name == "毛巾")).scalar_one()
        assert (item.office_id, item.cost, item.stock, item.monthly_limit, item.active) == (
            org.office.id, 15, 3, None, True)
        assert db.session.execute(sa.select(MallItem).where(MallItem.name == "肥皂")).first() is None
    page = html(client.get("/mall/items"))
    assert f'id="item-{item.id}"' in page and f'id="item-{foreign_item}"' not in page
    changed = client.post(f"/mall/items/{item.id}", data={"csrf_token": token, "cost": "20", "stock": "7",
                                                           "active": "false"})
    assert changed.status_code == 303
    assert client.post(f"/mall/items/{foreign_item}", data={"csrf_token": token, "cost": "1"}).status_code == 404
    with app.app_context():
        item = db.session.get(MallItem, item.id)
        assert (item.cost, item.stock, item.active) == (20, 7, False)
        assert db.session.get(MallItem, foreign_item).cost == 10
    updates = [d for a, o, d in audit_rows(app, "mall.item_%") if a == "mall.item_update" and o == "ok"]
    assert updates == [{"fields": ["active", "cost", "stock"]}]


# --- jobs and audit ------------------------------------------------------------------------------------

def test_jobs_and_audit_are_not_there_for_an_offices_officer(client, clock, make):
    scene = make.scene(phone=False)
    logged_in(client, clock, scene.officer)
    for path in ("/jobs", "/audit"):
        response = client.get(path)
        assert response.status_code == 404 and "该页面不存在" in html(response)
    assert 'href="/jobs"' not in html(client.get("/alerts"))


def test_the_jobs_page_shows_last_runs_next_runs_and_the_backlog(app, client, clock, make):
    org = make.org()
    at = clock()
    make.add(JobRun(job_id="escalate_alerts", started_at=at - timedelta(minutes=2), finished_at=at,
                    duration_ms=12, rows=None, ok=False, error="RuntimeError: disk on fire", host="node-1"))
    logged_in(client, clock, org.supervisor)
    page = html(client.get("/jobs"))
    no_inline_code(page)
    for spec in schedule(app.config["SETTINGS"]):
        assert f'id="job-{spec.id}"' in page
    failed = page[page.index('id="job-escalate_alerts"'):]
    failed = failed[:failed.index("</tr>")]
    assert "disk on fire" in failed and "outcome-error" in failed
    assert 'id="backlog-queued">0<' in page and 'id="backlog-lag">0.0<' in page
    assert 'href="/jobs"' in page and 'href="/audit"' in page


def test_the_audit_trail_filters_pages_and_hides_secrets(app, client, clock, make):
    org = make.org()
    at = clock()
    make.add(AuditEntry(at=at, bureau_id=org.bureau.id, actor_type="officer", actor_id=1,
                        actor_label="330102199001011234", action="test.secret", target_type="supervisee", target_id=7, outcome="ok",
                        details={"password": "hunter2", "note": "身份证 330102199001011234", "fields": ["name"]}),
             AuditEntry(at=at, bureau_id=org.other_bureau.id, action="test.foreign", outcome="ok", details={}))
    logged_in(client, clock, org.supervisor)
    for _ in range(3):
        client.get("/alerts")
    page = html(client.get("/audit"))
    no_inline_code(page)
    assert "hunter2" not in page and "330102199001011234" not in page and "**************1234" in page
    assert "test.secret" in page and "test.foreign" not in page
    listed = html(client.get("/audit?action=alert.list&limit=2"))
    first = re.findall(r'id="entry-(\d+)"', listed)
    more = re.search(r'href="([^"]+)" id="more"', listed).group(1).replace("&amp;", "&")
    rest = re.findall(r'id="entry-(\d+)"', html(client.get(more)))
    assert len(first) == 2 and len(rest) == 1 and int(rest[0]) < int(first[-1])
    assert "action=alert.list" in more and "limit=2" in more
    local_day = (at + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # the office's wall clock, to the minute
    entries = re.compile(r'id="entry-\d+"')
    assert len(entries.findall(html(client.get(f"/audit?action=test.secret&since={local_day}")))) == 1
    later = (at + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")
    assert entries.findall(html(client.get(f"/audit?action=test.secret&since={later}"))) == []
    assert client.get("/audit?since=yesterday").status_code == 422


def test_the_new_pages_need_a_session_and_their_forms_a_csrf_token(app, client, clock, make):
    scene = make.scene(phone=False)
    item_id = make.item(scene.office, cost=10)
    for path in ("/reports", "/reports/file?format=csv", "/mall/orders", "/mall/items", "/jobs", "/audit"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["Location"] == "/?m=login", path
    logged_in(client, clock, scene.officer)
    refused = client.post(f"/mall/items/{item_id}", data={"cost": "99"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(MallItem, item_id).cost == 10
