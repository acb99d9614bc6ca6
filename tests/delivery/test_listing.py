"""GET /notifications for officers (their office; supervisors their bureau) and the backlog in GET /jobs."""
from __future__ import annotations

from tests.assertions import error_of
from tests.factories import API

from .helpers import queue, register_phone, run_dispatcher

NOTIFICATIONS = f"{API}/notifications"


def listed(client, headers, **params) -> list[tuple[int, str, str]]:
    page = client.get(NOTIFICATIONS, query_string=params, headers=headers)
    assert page.status_code == 200, page.get_json()
    return [(item["supervisee_id"], item["channel"], item["state"]) for item in page.get_json()["items"]]


def test_officers_see_the_deliveries_of_their_office_and_supervisors_their_bureau(app, client, make, auth, jpush):
    org = make.org(logins=True)
    register_phone(client, jpush, auth.supervisee(org.person))
    for login in (org.person, org.sister_person, org.foreign_person):
        queue(app, login.supervisee.id, 1)
    run_dispatcher(app)  # only org.person registered a push id: the others fail
    me, sister, foreign = org.person.supervisee.id, org.sister_person.supervisee.id, org.foreign_person.supervisee.id
    assert listed(client, org.headers) == [(me, "push", "delivered")]
    assert listed(client, org.supervisor_headers) == [(sister, "push", "failed"), (me, "push", "delivered")]
    assert listed(client, auth.officer(org.foreign_officer)) == [(foreign, "push", "failed")]
    assert listed(client, org.supervisor_headers, state="failed") == [(sister, "push", "failed")]
    assert listed(client, org.supervisor_headers, supervisee_id=foreign) == []  # not theirs: nothing
    [item] = client.get(NOTIFICATIONS, query_string={"state": "failed"}, headers=org.supervisor_headers
                        ).get_json()["items"]
    assert item["last_error"] == "no push id: the phone has not registered one" and item["attempts"] == 1
    assert item["kind"] == "leave_decision" and item["office_id"] == org.sister_office.id


def test_the_list_pages_newest_first_and_refuses_bad_filters(app, client, make, auth):
    scene = make.scene(officer_login=True)
    queue(app, scene.person_id, 5)
    run_dispatcher(app)  # the log channel: delivered
    seen, cursor = [], None
    while True:
        page = client.get(NOTIFICATIONS, query_string={"limit": 2} | ({"cursor": cursor} if cursor else {}),
                          headers=scene.headers).get_json()
        seen += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == 5
    for bad in ({"state": "lost"}, {"channel": "fax"}, {"supervisee_id": 0}, {"cursor": "bm90IG91cnM="}):
        assert error_of(client.get(NOTIFICATIONS, query_string=bad, headers=scene.headers), 422)
    assert error_of(client.get(NOTIFICATIONS, headers=auth.supervisee(scene.person)), 403)["code"] == "forbidden"


def test_jobs_show_the_dispatchers_backlog_and_lag(app, client, make, auth, clock):
    org = make.org(logins=True)
    queue(app, org.person.supervisee.id, 3)

    def backlog(headers=org.supervisor_headers):
        items = client.get(f"{API}/jobs", headers=headers).get_json()["items"]
        [job] = [item for item in items if item["id"] == "dispatch_notifications"]
        assert all(item["backlog"] is None for item in items if item["id"] != "dispatch_notifications")
        return job["backlog"]

    clock.advance(seconds=90)
    assert backlog() == {"queued": 3, "due": 3, "sending": 0, "failed_last_24h": 0, "lag_seconds": 90.0}
    run_dispatcher(app)  # nobody registered a push id: all three fail
    assert backlog() == {"queued": 0, "due": 0, "sending": 0, "failed_last_24h": 3, "lag_seconds": 0.0}
    clock.advance(days=1)
    assert backlog(auth.officer(org.supervisor))["failed_last_24h"] == 0
