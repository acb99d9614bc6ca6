"""Officers' group robots: set by admins (secrets write-only), told of serious alerts, escalations and
job failures through the outbox, against fake DingTalk and WeCom servers that check the documented request."""
from __future__ import annotations

from datetime import timedelta

import pytest

from correction.alerts.models import MissedWindow
from correction.audit.models import AuditEntry
from correction.delivery.models import Delivery
from correction.notifications.models import OfficerMessage
from jobs import runner
from jobs.schedule import JobSpec, schedule
from tests.assertions import error_of, rows
from tests.factories import API, alert_row, local

from .fakes import DINGTALK_SECRET, DINGTALK_TOKEN, WECOM_KEY
from .helpers import run_dispatcher


def run(app, job_id: str):
    [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == job_id]
    result = runner.run_job(app, spec)
    assert result is not None and result.ok, result and result.error
    return result


def set_robot(client, headers, path: str, **body):
    response = client.put(f"{API}/admin/{path}", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def org_robots(make, auth, client, dingtalk, wecom):
    """The first bureau of ``make.org`` with its admin; its first office on DingTalk, the bureau on WeCom."""
    org = make.org()
    admin = auth.officer(make.officer(role="admin", bureau_id=org.bureau.id))
    set_robot(client, admin, f"offices/{org.office.id}/robot", provider="dingtalk",
              webhook_url=f"{dingtalk.url}/robot/send?access_token={DINGTALK_TOKEN}", secret=DINGTALK_SECRET)
    set_robot(client, admin, "robot", provider="wecom", webhook_url=f"{wecom.url}/cgi-bin/webhook/send?key={WECOM_KEY}")
    org.admin_headers = admin
    return org


def robot_deliveries(app) -> list[Delivery]:
    return rows(app, Delivery, Delivery.officer_message_id.is_not(None))


def test_admins_set_robots_whose_webhook_and_secret_are_never_shown_or_audited(app, client, make, auth, dingtalk):
    org = make.org(logins=True)
    admin = auth.officer(make.officer(role="admin", bureau_id=org.bureau.id))
    path = f"{API}/admin/offices/{org.office.id}/robot"
    webhook = f"{dingtalk.url}/robot/send?access_token={DINGTALK_TOKEN}"
    shown = set_robot(client, admin, f"offices/{org.office.id}/robot", provider="dingtalk", webhook_url=webhook,
                      secret=DINGTALK_SECRET)
    assert shown == {"office_id": org.office.id, "provider": "dingtalk", "webhook_host": "127.0.0.1",
                     "secret_set": True, "updated_at": shown["updated_at"]}
    again = set_robot(client, admin, f"offices/{org.office.id}/robot", provider="dingtalk", webhook_url=webhook)
    assert again["secret_set"] is True  # left out: kept
    assert client.get(path, headers=admin).get_json() == again
    for entry in rows(app, AuditEntry, AuditEntry.action == "robot.set"):
        assert DINGTALK_SECRET not in str(entry.details) and DINGTALK_TOKEN not in str(entry.details)
        assert entry.target_id == org.office.id and entry.details["after"]["secret_set"] is True
    # Other bureaus' offices and other roles: 404; a plain-http or malformed webhook: 422
    foreign = f"{API}/admin/offices/{org.foreign_office.id}/robot"
    assert error_of(client.put(foreign, json={"provider": "wecom", "webhook_url": "https://qyapi.weixin.qq.com/x"},
                               headers=admin), 404)
    assert error_of(client.get(path, headers=org.supervisor_headers), 404)
    for bad in ({"provider": "dingtalk", "webhook_url": "http://oapi.dingtalk.com/robot/send"},
                {"provider": "feishu", "webhook_url": "https://open.feishu.cn/x"},
                {"provider": "wecom", "webhook_url": "https://qyapi.weixin.qq.com/x", "secret": "a b"}):
        body = error_of(client.put(path, json=bad, headers=admin), 422)
        assert "qyapi" not in str(body) and "oapi" not in str(body)
    assert client.delete(path, headers=admin).status_code == 204
    assert error_of(client.get(path, headers=admin), 404)["code"] == "robot_not_found"


def test_a_serious_alert_reaches_the_offices_dingtalk_robot_once_signed(app, org_robots, dingtalk, wecom, make, clock):
    org = org_robots
    make.add(alert_row(org.person.supervisee, "zone_exit", clock(), severity="high"),
             alert_row(org.person.supervisee, "missed_checkin", clock(), severity="medium"))
    run(app, "announce_to_officers")
    run(app, "announce_to_officers")  # announced once
    run_dispatcher(app)
    run_dispatcher(app)
    [message] = dingtalk.messages
    assert message["title"] == "新预警：离开活动区域"
    assert org.person.supervisee.name in message["text"] and org.office.name in message["text"]
    assert org.person.supervisee.phone not in message["text"]
    assert wecom.messages == []
    [delivery] = robot_deliveries(app)
    assert (delivery.channel, delivery.state, delivery.provider, delivery.attempts) == (
        "robot", "delivered", "webhook", 1)


def test_an_unacknowledged_alert_escalates_to_the_office_then_the_bureau(app, org_robots, dingtalk, wecom, make, clock):
    org = org_robots
    make.add(alert_row(org.person.supervisee, "signal_lost", clock(), severity="critical"))
    run(app, "announce_to_officers")
    run_dispatcher(app)
    clock.advance(minutes=16)  # past the critical SLA (15 minutes)
    run(app, "escalate_alerts")
    run(app, "announce_to_officers")
    run_dispatcher(app)
    assert [m["title"] for m in dingtalk.messages] == ["新预警：失联", "预警超时未签收（请主管处理）"]
    assert "主管" in dingtalk.messages[1]["text"] and wecom.messages == []
    clock.advance(minutes=59)
    run(app, "announce_to_officers")
    run_dispatcher(app)
    assert wecom.messages == []
    clock.advance(minutes=2)  # ROBOT_ESCALATE_TO_BUREAU_MINUTES (60) after the escalation
    run(app, "announce_to_officers")
    run(app, "announce_to_officers")
    run_dispatcher(app)
    [bureau] = wecom.messages
    assert bureau["msgtype"] == "markdown" and "预警升级至区司法局" in bureau["text"]
    assert org.office.name in bureau["text"] and len(dingtalk.messages) == 2


def test_an_acknowledged_escalation_goes_no_further(app, org_robots, wecom, make, auth, clock, client):
    org = org_robots
    alert = alert_row(org.person.supervisee, "signal_lost", clock(), severity="critical")
    make.add(alert)
    clock.advance(minutes=16)
    run(app, "escalate_alerts")
    response = client.post(f"{API}/alerts/{alert.id}/acknowledge", headers=auth.officer(org.supervisor))
    assert response.status_code == 200, response.get_json()
    clock.advance(minutes=61)
    run(app, "announce_to_officers")
    run_dispatcher(app)
    assert wecom.messages == []


def test_a_failing_job_tells_the_bureaus_robot_once_an_hour(app, org_robots, wecom, clock):
    def broken(session, settings, now):
        raise RuntimeError("disk on fire at 330702199001011234")

    spec = JobSpec("weekly_reports", broken, schedule(app.config["SETTINGS"])[0].trigger, "broken")
    assert not runner.run_job(app, spec).ok
    assert not runner.run_job(app, spec).ok
    run_dispatcher(app)
    [message] = wecom.messages
    assert "weekly_reports" in message["text"] and "RuntimeError" in message["text"]
    assert "330702199001011234" not in message["text"] and "disk on fire" not in message["text"]
    # both bureaus are told; the other has no robot: its delivery fails and says why
    states = sorted((d.state, d.last_error) for d in robot_deliveries(app))
    assert states == [("delivered", None), ("failed", "no robot set for the office or its bureau")]


def test_a_wrong_secret_fails_a_rate_limit_waits_and_a_timeout_is_not_resent(app, client, org_robots, dingtalk, make,
                                                                           clock):
    org = org_robots
    set_robot(client, org.admin_headers, f"offices/{org.office.id}/robot", provider="dingtalk",
              webhook_url=f"{dingtalk.url}/robot/send?access_token={DINGTALK_TOKEN}", secret="SECnotthesecret")
    make.add(alert_row(org.person.supervisee, "zone_exit", clock(), severity="high", key="a"))
    run(app, "announce_to_officers")
    run_dispatcher(app)
    [failed] = robot_deliveries(app)
    assert (failed.state, failed.last_error) == ("failed", "dingtalk 310000: sign not match")
    set_robot(client, org.admin_headers, f"offices/{org.office.id}/robot", provider="dingtalk",
              webhook_url=f"{dingtalk.url}/robot/send?access_token={DINGTALK_TOKEN}", secret=DINGTALK_SECRET)
    for n in range(21):  # 21 serious alerts at once; the robot takes 20 a minute
        make.add(alert_row(org.person.supervisee, "exclusion_entry", clock(), severity="critical", key=f"burst{n}"))
    run(app, "announce_to_officers")
    run_dispatcher(app)
    assert len(dingtalk.messages) == 20
    [waiting] = [d for d in robot_deliveries(app) if d.state == "queued"]
    assert waiting.last_error == "dingtalk 130101: send too fast, exceed 20 times per minute"
    assert waiting.next_attempt_at >= clock() + timedelta(seconds=59)
    dingtalk.minutes_passed = 1
    clock.advance(seconds=61)
    run_dispatcher(app)
    assert len(dingtalk.messages) == 21
    make.add(alert_row(org.person.supervisee, "mock_location", clock(), severity="high", key="slow"))
    dingtalk.script = ["timeout"]
    run(app, "announce_to_officers")
    run_dispatcher(app)
    clock.advance(minutes=10)
    run_dispatcher(app)
    [late] = [d for d in robot_deliveries(app) if d.attempts and d.last_error and "outcome" in d.last_error]
    assert (late.state, late.attempts) == ("failed", 1)
    assert len(rows(app, OfficerMessage)) == 23


def test_the_daily_digest_counts_each_offices_open_alerts_unacknowledged_ones_and_yesterdays_misses(
        app, org_robots, dingtalk, wecom, make, clock):
    org = org_robots
    clock.set(local(2026, 11, 26, 8, 0))  # the digest's hour, local
    person = org.person.supervisee
    make.add(alert_row(person, "zone_exit", clock() - timedelta(hours=30), severity="high", key="old"),
             alert_row(person, "zone_exit", clock() - timedelta(hours=1), severity="high", key="new"),
             alert_row(person, "signal_lost", clock() - timedelta(hours=2), severity="high", ack_minutes=5),
             alert_row(person, "missed_checkin", clock() - timedelta(hours=40), severity="medium", resolved_minutes=9),
             MissedWindow(supervisee_id=person.id, office_id=org.office.id, kind="remote", window_key="remote:y",
                          closes_at=local(2026, 11, 25, 20, 0), detected_at=local(2026, 11, 25, 20, 1), alerted=True),
             MissedWindow(supervisee_id=person.id, office_id=org.office.id, kind="remote", window_key="remote:old",
                          closes_at=local(2026, 11, 24, 20, 0), detected_at=local(2026, 11, 24, 20, 1), alerted=True))
    run(app, "officer_digests")
    run(app, "officer_digests")  # once a day
    run_dispatcher(app)
    assert len(dingtalk.messages) == 1, dingtalk.messages
    [digest] = dingtalk.messages
    assert digest["title"] == f"每日汇总：{org.office.name}"
    assert digest["text"].splitlines()[2:] == [
        "- 未办结预警：", "  - 失联（高）：1", "  - 离开活动区域（高）：2",
        "- 超过 24 小时未签收：1", "- 昨日未按时报到：1"]
    [sister] = wecom.messages  # the sister office has no robot: its digest goes to the bureau's
    assert f"每日汇总 {org.sister_office.name}" in sister["text"] and "  - 无" in sister["text"]
