"""Two administrative requests at once: the bureau keeps an admin; a close and an enrolment do not both win."""
from __future__ import annotations

import threading

import pytest

from correction.people.models import Officer, Supervisee
from tests.admin.conftest import ADMIN
from tests.assertions import count
from tests.factories import API, enrolment

pytestmark = pytest.mark.postgresql_only  # SQLite runs one writer at a time: no race to lose


def at_once(app, *requests) -> list:
    """Send each (method, path, headers, body) from its own thread, released together; the answers."""
    barrier = threading.Barrier(len(requests))
    answers: list = [None] * len(requests)

    def send(index: int) -> None:
        method, path, headers, body = requests[index]
        with app.app_context():
            client = app.test_client()
            barrier.wait(timeout=10)
            response = getattr(client, method)(path, headers=headers, json=body)
            answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(a is not None for a in answers), answers
    return answers


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, make, auth, bureau):
    second = make.officer(role="admin", bureau_id=bureau.org.bureau.id)
    second_headers = auth.officer(second)
    answers = at_once(app,
                      ("patch", f"{ADMIN}/officers/{second.officer.id}", bureau.headers, {"role": "supervisor"}),
                      ("patch", f"{ADMIN}/officers/{bureau.admin.officer.id}", second_headers, {"role": "supervisor"}))
    statuses = sorted(status for status, _ in answers)
    assert statuses in ([200, 409], [200, 404]), answers  # 404: the loser was demoted before it was judged
    assert count(app, Officer, Officer.bureau_id == bureau.org.bureau.id, Officer.role == "admin", Officer.active) == 1


def test_closing_an_office_while_a_supervisee_is_enrolled_there_lets_one_win(app, make, auth, bureau):
    office = make.office(bureau.org.bureau, name="将撤销司法所")
    officer_headers = auth.officer(make.officer(office))
    answers = at_once(app,
                      ("post", f"{ADMIN}/offices/{office.id}/close", bureau.headers, None),
                      ("post", f"{API}/supervisees", officer_headers, enrolment()))
    (close_status, close_body), (enrol_status, enrol_body) = answers
    enrolled = count(app, Supervisee, Supervisee.office_id == office.id)
    if close_status == 200:
        assert (enrol_status, enrol_body["error"]["code"], enrolled) == (409, "office_closed", 0), answers
    else:
        assert (close_status, close_body["error"]["code"]) == (409, "office_has_supervisees"), answers
        assert (enrol_status, enrolled) == (201, 1), answers
