"""Redemption and cancellation under real concurrency (PostgreSQL: row locks, many connections).

Every caller is a thread with its own app context and test client; a barrier releases them
together so their transactions overlap.
"""
from __future__ import annotations

import threading
from collections import Counter
from typing import Callable

import pytest

from correction.mall.models import Order
from tests.assertions import assert_balances_match_ledger, balance_of, ledger_of, orders_of, stock_of
from tests.factories import MY_ORDERS, ORDERS, new_key, redeem

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def mall(make):
    """An office, its officer, and one ``normal`` supervisee logged in on their phone."""
    return make.scene()


def race(app, calls: list[Callable]) -> list[tuple[int, dict]]:
    """Run every ``call(client)`` at once, each in its own thread; return (status, body) in order."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)
    failures: list = []

    def run(index: int, call: Callable) -> None:
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait(timeout=30)
                response = call(client)
                answers[index] = (response.status_code, response.get_json())
        except Exception as error:  # surfaced below: a thread's exception would otherwise vanish
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert all(answer is not None for answer in answers), answers
    return answers


def codes(answers) -> Counter:
    return Counter((status, body["error"]["code"] if status >= 400 else "ok") for status, body in answers)


def test_fifty_buyers_of_the_last_item_one_gets_it(app, make, auth, clock, mall):
    people = [make.supervisee(mall.office, mall.officer.officer) for _ in range(50)]
    phones = [auth.supervisee(p) for p in people]
    for person in people:
        make.give(person, 100)
    item_id = make.item(mall.office, cost=40, stock=1)

    answers = race(app, [lambda client, phone=phone: redeem(client, phone, item_id) for phone in phones])

    assert codes(answers) == {(201, "ok"): 1, (409, "out_of_stock"): 49}, codes(answers)
    [winner] = [i for i, (status, _) in enumerate(answers) if status == 201]
    [order] = orders_of(app)
    assert (order.id, order.supervisee_id, order.status) == (
        answers[winner][1]["id"], people[winner].supervisee.id, "pending")
    assert stock_of(app, item_id) == 0
    for i, person in enumerate(people):
        assert balance_of(app, person.supervisee.id) == (60 if i == winner else 100)
    assert sum(1 for p in people for e in ledger_of(app, p.supervisee.id) if e[1] == "redemption") == 1
    assert_balances_match_ledger(app)


def test_one_person_who_can_afford_one_redeems_twice_at_once(app, make, clock, mall):
    for _ in range(3):  # a few rounds: the two requests do not collide every time
        make.give(mall.person, 40 - (balance_of(app, mall.person_id) or 0))
        item_id = make.item(mall.office, cost=30, stock=10)
        answers = race(app, [lambda client: redeem(client, mall.phone, item_id)] * 2)
        assert codes(answers) == {(201, "ok"): 1, (409, "insufficient_points"): 1}, answers
        assert balance_of(app, mall.person_id) == 10
        assert stock_of(app, item_id) == 9
        assert len(orders_of(app, Order.item_id == item_id)) == 1
    assert_balances_match_ledger(app)


def test_one_person_racing_two_items_cannot_overspend(app, make, clock, mall):
    make.give(mall.person, 50)
    first, second = (make.item(mall.office, cost=30, stock=3) for _ in range(2))
    answers = race(app, [lambda client: redeem(client, mall.phone, first),
                         lambda client: redeem(client, mall.phone, second)])
    assert codes(answers) == {(201, "ok"): 1, (409, "insufficient_points"): 1}, answers
    assert balance_of(app, mall.person_id) == 20
    assert stock_of(app, first) + stock_of(app, second) == 5
    assert_balances_match_ledger(app)


def test_the_same_idempotency_key_raced_makes_one_order(app, make, clock, mall):
    make.give(mall.person, 1000)
    item_id = make.item(mall.office, cost=10, stock=100)
    for _ in range(3):
        key = new_key()
        answers = race(app, [lambda client: redeem(client, mall.phone, item_id, key)] * 4)
        assert sorted(status for status, _ in answers) == [200, 200, 200, 201], answers
        assert len({body["id"] for _, body in answers}) == 1
        assert len(orders_of(app, Order.idempotency_key == key)) == 1
    assert stock_of(app, item_id) == 97
    assert balance_of(app, mall.person_id) == 970
    assert_balances_match_ledger(app)


def test_cancelling_twice_at_once_refunds_once(app, make, auth, clock, mall):
    officer = auth.officer(mall.officer)
    make.give(mall.person, 100)
    item_id = make.item(mall.office, cost=30, stock=5)
    for _ in range(3):
        order_id = redeem(app.test_client(), mall.phone, item_id).get_json()["id"]
        answers = race(app, [
            lambda client: client.post(f"{ORDERS}/{order_id}/cancel", json={}, headers=officer),
            lambda client: client.post(f"{ORDERS}/{order_id}/cancel", json={}, headers=officer),
            lambda client: client.post(f"{MY_ORDERS}/{order_id}/cancel", json={}, headers=mall.phone),
        ])
        assert codes(answers) == {(200, "ok"): 1, (409, "order_already_cancelled"): 2}, answers
        refunds = [e for e in ledger_of(app, mall.person_id) if e[1:] == ("refund", f"order:{order_id}")]
        assert refunds == [(30, "refund", f"order:{order_id}")]
        assert balance_of(app, mall.person_id) == 100
        assert stock_of(app, item_id) == 5
    assert_balances_match_ledger(app)


def test_fulfil_and_cancel_at_once_one_wins(app, make, auth, clock, mall):
    officer = auth.officer(mall.officer)
    make.give(mall.person, 100)
    item_id = make.item(mall.office, cost=30, stock=5)
    order_id = redeem(app.test_client(), mall.phone, item_id).get_json()["id"]
    answers = race(app, [
        lambda client: client.post(f"{ORDERS}/{order_id}/fulfil", json={}, headers=officer),
        lambda client: client.post(f"{MY_ORDERS}/{order_id}/cancel", json={}, headers=mall.phone),
    ])
    assert sorted(status for status, _ in answers) == [200, 409], answers
    [order] = orders_of(app)
    if order.status == "fulfilled":
        assert (balance_of(app, mall.person_id), stock_of(app, item_id)) == (70, 4)
    else:
        assert (balance_of(app, mall.person_id), stock_of(app, item_id)) == (100, 5)
    assert_balances_match_ledger(app)
