"""The supervisee's notification outbox: queued once per dedupe key, read newest first, marked read."""
from __future__ import annotations

from datetime import timedelta

import pytest

from correction.database import db
from correction.notifications.models import Notification
from correction.notifications.service import notify
from correction.time import iso_z
from tests.assertions import error_of, rows
from tests.factories import API

NOTIFICATIONS = f"{API}/me/notifications"


@pytest.fixture
def scene(make):
    """An office, its officer and two supervisees of theirs, nobody logged in."""
    return make.scene(other="normal", phone=False)



def queue(app, person, *, kind="reminder", title="报到提醒", body="请在今天20:00前完成报到。",
          data=None, dedupe_key=None) -> bool:
    with app.app_context():
        queued = notify(db.session, supervisee_id=person.supervisee.id, kind=kind, title=title, body=body,
                        now=app.extensions["correction.clock"](), data=data, dedupe_key=dedupe_key)
        db.session.commit()
    return queued


def test_a_notification_with_a_seen_dedupe_key_is_not_queued_twice(app, scene):
    assert queue(app, scene.person, dedupe_key="remind:2026-W48") is True
    assert queue(app, scene.person, dedupe_key="remind:2026-W48", title="again") is False
    assert queue(app, scene.person) is True  # no key: always queued
    assert queue(app, scene.person) is True
    titles = [n.title for n in rows(app, Notification, Notification.supervisee_id == scene.person.supervisee.id)]
    assert titles == ["报到提醒"] * 3


def test_supervisee_reads_their_own_notifications_newest_first(app, client, auth, scene, clock):
    queue(app, scene.person, title="first", data={"window": "2026-W48"})
    clock.advance(minutes=5)
    queue(app, scene.person, title="second")
    queue(app, scene.other, title="not yours")
    response = client.get(NOTIFICATIONS, headers=auth.supervisee(scene.person))
    assert response.status_code == 200
    page = response.get_json()
    assert [n["title"] for n in page["items"]] == ["second", "first"]
    assert page["next_cursor"] is None
    first = page["items"][1]
    assert first == {"id": first["id"], "kind": "reminder", "title": "first",
                     "body": "请在今天20:00前完成报到。", "data": {"window": "2026-W48"},
                     "created_at": iso_z(clock() - timedelta(minutes=5)),
                     "read_at": None}


def test_notifications_page_with_a_cursor(app, client, auth, scene):
    for n in range(5):
        queue(app, scene.person, title=f"n{n}")
    headers = auth.supervisee(scene.person)
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(NOTIFICATIONS, query_string=params, headers=headers).get_json()
        seen += [n["title"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["n4", "n3", "n2", "n1", "n0"]


def test_marking_a_notification_read_keeps_the_first_read_time(app, client, auth, scene, clock):
    queue(app, scene.person, title="a")
    queue(app, scene.person, title="b")
    headers = auth.supervisee(scene.person)
    items = client.get(NOTIFICATIONS, headers=headers).get_json()["items"]
    target = items[1]["id"]
    read_at = clock()
    response = client.post(f"{NOTIFICATIONS}/{target}/read", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["read_at"] == iso_z(read_at)
    clock.advance(minutes=10)
    again = client.post(f"{NOTIFICATIONS}/{target}/read", headers=headers)
    assert again.status_code == 200 and again.get_json()["read_at"] == iso_z(read_at)

    unread = client.get(NOTIFICATIONS, query_string={"unread": "true"}, headers=headers).get_json()
    read = client.get(NOTIFICATIONS, query_string={"unread": "false"}, headers=headers).get_json()
    assert [n["title"] for n in unread["items"]] == ["b"]
    assert [n["title"] for n in read["items"]] == ["a"]


def test_another_supervisees_notification_is_not_found_and_stays_unread(app, client, auth, scene):
    queue(app, scene.other, title="theirs")
    (theirs,) = rows(app, Notification, Notification.supervisee_id == scene.other.supervisee.id)
    headers = auth.supervisee(scene.person)
    response = client.post(f"{NOTIFICATIONS}/{theirs.id}/read", headers=headers)
    missing = client.post(f"{NOTIFICATIONS}/987654/read", headers=headers)
    assert error_of(response, 404) == error_of(missing, 404)
    assert error_of(response, 404)["code"] == "notification_not_found"
    (after,) = rows(app, Notification, Notification.id == theirs.id)
    assert after.read_at is None


def test_notifications_are_for_supervisees_only(client, auth, scene):
    assert error_of(client.get(NOTIFICATIONS), 401)["code"] == "unauthorized"
    officer = auth.officer(scene.officer)
    assert error_of(client.get(NOTIFICATIONS, headers=officer), 403)["code"] == "forbidden"
    assert error_of(client.post(f"{NOTIFICATIONS}/1/read", headers=officer), 403)["code"] == "forbidden"


def test_a_bad_unread_filter_is_a_validation_error(client, auth, scene):
    response = client.get(NOTIFICATIONS, query_string={"unread": "perhaps"},
                          headers=auth.supervisee(scene.person))
    assert {f["path"] for f in error_of(response, 422)["details"]["fields"]} == {"query.unread"}

