"""The points mall (积分商城): items of an office, redemption with an Idempotency-Key, orders.

Redeeming debits points and stock and creates the order in one transaction, or does nothing
and says why. Orders go pending → fulfilled, or pending → cancelled with points and stock back.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from correction.people.status_token import issue_token
from tests.assertions import assert_balances_match_ledger, balance_of, code_of, ledger_of, orders_of, stock_of
from tests.factories import API, ITEMS, MY_ORDERS, ORDERS, local, redeem


@pytest.fixture
def mall(make):
    """An office, its officer, and one ``normal`` supervisee logged in on their phone."""
    return make.scene()


def item_body(**overrides) -> dict:
    return {"name": "洗衣液", "description": "2 kg", "cost": 30, "stock": 10, "monthly_limit": 2, **overrides}


@pytest.fixture
def officer(auth, mall):
    return auth.officer(mall.officer)


@pytest.fixture
def elsewhere(make):
    """Another office of another bureau, with its officer and a supervisee logged in on their phone."""
    return make.scene()


def snapshot(app, person_id: int, item_id: int) -> tuple:
    """What a refused redemption must leave untouched."""
    return balance_of(app, person_id), stock_of(app, item_id), len(orders_of(app)), len(ledger_of(app, person_id))


# --- items ---------------------------------------------------------------------------------

def test_an_officer_offers_an_item_in_their_office(client, app, mall, officer):
    response = client.post(ITEMS, json=item_body(image_url="https://example.org/a.png"), headers=officer)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {"id": body["id"], "office_id": mall.office.id, "name": "洗衣液", "description": "2 kg",
                    "cost": 30, "stock": 10, "monthly_limit": 2, "active": True,
                    "image_url": "https://example.org/a.png"}
    listed = client.get(ITEMS, headers=officer).get_json()
    assert [i["id"] for i in listed["items"]] == [body["id"]] and listed["next_cursor"] is None


def test_an_officer_changes_an_item(client, app, mall, officer):
    item_id = client.post(ITEMS, json=item_body(), headers=officer).get_json()["id"]
    response = client.patch(f"{ITEMS}/{item_id}", json={"cost": 25, "stock": 0, "active": False,
                                                         "monthly_limit": None}, headers=officer)
    assert response.status_code == 200, response.get_json()
    assert {k: response.get_json()[k] for k in ("cost", "stock", "active", "monthly_limit", "name")} == {
        "cost": 25, "stock": 0, "active": False, "monthly_limit": None, "name": "洗衣液"}
    assert stock_of(app, item_id) == 0


def test_another_offices_item_is_not_found_and_not_listed(client, app, make, clock, mall, officer, elsewhere):
    theirs = make.item(elsewhere.office)
    response = client.patch(f"{ITEMS}/{theirs}", json={"stock": 99}, headers=officer)
    assert (response.status_code, code_of(response)) == (404, "item_not_found")
    assert stock_of(app, theirs) == 5
    assert client.get(ITEMS, headers=officer).get_json()["items"] == []


def test_a_supervisor_names_the_office_of_their_bureau(client, app, make, auth, mall, elsewhere):
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=mall.office.bureau_id))
    missing = client.post(ITEMS, json=item_body(), headers=supervisor)
    assert missing.status_code == 422
    foreign = client.post(ITEMS, json=item_body(office_id=elsewhere.office.id), headers=supervisor)
    assert foreign.status_code == 422
    made = client.post(ITEMS, json=item_body(office_id=mall.office.id), headers=supervisor)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["office_id"] == mall.office.id
    assert client.patch(f"{ITEMS}/{made.get_json()['id']}", json={"stock": 3}, headers=supervisor).status_code == 200


def test_an_officer_cannot_offer_for_another_office(client, app, mall, officer, elsewhere):
    response = client.post(ITEMS, json=item_body(office_id=elsewhere.office.id), headers=officer)
    assert response.status_code == 422
    assert orders_of(app) == [] and client.get(ITEMS, headers=officer).get_json()["items"] == []


def test_supervisees_see_only_their_offices_active_items(client, app, make, clock, mall, elsewhere):
    on_offer = make.item(mall.office, name="牙膏")
    make.item(mall.office, name="下架", active=False)
    make.item(elsewhere.office, name="别处")
    sold_out = make.item(mall.office, name="售罄", stock=0)
    listed = client.get(ITEMS, headers=mall.phone).get_json()["items"]
    assert [i["id"] for i in listed] == [on_offer, sold_out]


def test_supervisees_cannot_create_or_change_items(client, app, make, clock, mall):
    item_id = make.item(mall.office)
    assert client.post(ITEMS, json=item_body(), headers=mall.phone).status_code == 403
    assert client.patch(f"{ITEMS}/{item_id}", json={"stock": 99}, headers=mall.phone).status_code == 403
    assert stock_of(app, item_id) == 5


@pytest.mark.parametrize("change, field", [
    ({"cost": 0}, "cost"),
    ({"cost": -5}, "cost"),
    ({"stock": -1}, "stock"),
    ({"monthly_limit": 0}, "monthly_limit"),
    ({"name": ""}, "name"),
    ({"price": 3}, "price"),
    ({"cost": "10"}, "cost"),
])
def test_bad_items_are_422(client, app, mall, officer, change, field):
    response = client.post(ITEMS, json=item_body(**change), headers=officer)
    assert response.status_code == 422, response.get_json()
    assert field in {f["path"] for f in response.get_json()["error"]["details"]["fields"]}
    item_id = client.post(ITEMS, json=item_body(), headers=officer).get_json()["id"]
    patched = client.patch(f"{ITEMS}/{item_id}", json=change, headers=officer)
    assert patched.status_code == 422, patched.get_json()
    with_null = client.patch(f"{ITEMS}/{item_id}", json={"cost": None}, headers=officer)
    assert with_null.status_code == 422
    assert client.get(ITEMS, headers=officer).get_json()["items"][0]["cost"] == 30


# --- redemption ----------------------------------------------------------------------------

def test_redeeming_debits_points_and_stock_and_creates_a_pending_order(client, app, make, clock, mall):
    make.give(mall.person, 50)
    item_id = make.item(mall.office, cost=30, stock=2)
    response = redeem(client, mall.phone, item_id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in ("supervisee_id", "office_id", "item_id", "cost", "status", "fulfilled_at",
                                 "cancelled_at", "note")} == {
        "supervisee_id": mall.person_id, "office_id": mall.office.id, "item_id": item_id, "cost": 30,
        "status": "pending", "fulfilled_at": None, "cancelled_at": None, "note": None}
    assert body["created_at"] == "2026-11-25T02:00:00Z"
    assert (balance_of(app, mall.person_id), stock_of(app, item_id)) == (20, 1)
    assert ledger_of(app, mall.person_id)[-1] == (-30, "redemption", f"order:{body['id']}")
    assert client.get(f"{API}/me/points", headers=mall.phone).get_json()["balance"] == 20
    assert_balances_match_ledger(app)


def test_not_enough_points_changes_nothing(client, app, make, clock, mall):
    make.give(mall.person, 29)
    item_id = make.item(mall.office, cost=30)
    before = snapshot(app, mall.person_id, item_id)
    response = redeem(client, mall.phone, item_id)
    assert (response.status_code, code_of(response)) == (409, "insufficient_points")
    assert response.get_json()["error"]["details"] == {"balance": 29, "cost": 30}
    assert snapshot(app, mall.person_id, item_id) == before


def test_exactly_enough_points_is_enough(client, app, make, clock, mall):
    make.give(mall.person, 30)
    item_id = make.item(mall.office, cost=30)
    assert redeem(client, mall.phone, item_id).status_code == 201
    assert balance_of(app, mall.person_id) == 0


def test_out_of_stock_changes_nothing(client, app, make, clock, mall):
    make.give(mall.person, 100)
    item_id = make.item(mall.office, stock=0)
    before = snapshot(app, mall.person_id, item_id)
    response = redeem(client, mall.phone, item_id)
    assert (response.status_code, code_of(response)) == (409, "out_of_stock")
    assert snapshot(app, mall.person_id, item_id) == before


def test_an_inactive_item_cannot_be_redeemed(client, app, make, clock, mall):
    make.give(mall.person, 100)
    item_id = make.item(mall.office, active=False)
    before = snapshot(app, mall.person_id, item_id)
    response = redeem(client, mall.phone, item_id)
    assert (response.status_code, code_of(response)) == (409, "item_inactive")
    assert snapshot(app, mall.person_id, item_id) == before


@pytest.mark.parametrize("whose", ["another office", "nobody"])
def test_an_item_of_another_office_is_not_found(client, app, make, clock, mall, elsewhere, whose):
    make.give(mall.person, 100)
    item_id = make.item(elsewhere.office) if whose == "another office" else 999_999
    response = redeem(client, mall.phone, item_id)
    assert (response.status_code, code_of(response)) == (404, "item_not_found")
    assert orders_of(app) == [] and balance_of(app, mall.person_id) == 100


def test_the_monthly_limit_counts_this_local_months_uncancelled_orders(client, app, make, clock, mall):
    make.give(mall.person, 100)
    item_id = make.item(mall.office, cost=10, monthly_limit=1)
    first = redeem(client, mall.phone, item_id)
    assert first.status_code == 201
    refused = redeem(client, mall.phone, item_id)
    assert (refused.status_code, code_of(refused)) == (409, "limit_reached")
    assert refused.get_json()["error"]["details"] == {"monthly_limit": 1}
    assert client.post(f"{MY_ORDERS}/{first.get_json()['id']}/cancel", json={},
                       headers=mall.phone).status_code == 200
    assert redeem(client, mall.phone, item_id).status_code == 201  # a cancelled order does not count
    clock.set(local(2026, 11, 30, 23, 59))
    assert code_of(redeem(client, mall.phone, item_id)) == "limit_reached"
    clock.set(local(2026, 12, 1, 0, 0))  # 16:00Z on 30 Nov, already December in Shanghai
    assert redeem(client, mall.phone, item_id).status_code == 201
    assert balance_of(app, mall.person_id) == 80
    assert_balances_match_ledger(app)


def test_redeeming_needs_an_idempotency_key(client, app, make, clock, mall):
    make.give(mall.person, 100)
    item_id = make.item(mall.office)
    response = client.post(MY_ORDERS, json={"item_id": item_id}, headers=mall.phone)
    assert (response.status_code, code_of(response)) == (400, "idempotency_key_required")
    assert orders_of(app) == []


@pytest.mark.parametrize("key", ["short", "x" * 65, "has space 123", "含中文的幂等键abc", "semi;colon1", ""])
def test_a_malformed_idempotency_key_is_422(client, app, make, clock, mall, key):
    make.give(mall.person, 100)
    item_id = make.item(mall.office)
    response = client.post(MY_ORDERS, json={"item_id": item_id},
                           headers={**mall.phone, "Idempotency-Key": key.encode().decode("latin-1")})
    assert (response.status_code, code_of(response)) == (422, "invalid_idempotency_key")
    assert orders_of(app) == [] and balance_of(app, mall.person_id) == 100


def test_the_same_key_again_returns_the_first_order_and_buys_nothing_more(client, app, make, clock, mall):
    make.give(mall.person, 100)
    item_id = make.item(mall.office, cost=30)
    key = "retry-key-0001"
    first = redeem(client, mall.phone, item_id, key)
    assert first.status_code == 201
    clock.advance(minutes=1)
    again = redeem(client, mall.phone, item_id, key)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert (balance_of(app, mall.person_id), stock_of(app, item_id), len(orders_of(app))) == (70, 4, 1)


def test_the_same_key_for_another_item_is_422(client, app, make, clock, mall):
    make.give(mall.person, 100)
    one, other = make.item(mall.office), make.item(mall.office)
    assert redeem(client, mall.phone, one, "shared-key-01").status_code == 201
    response = redeem(client, mall.phone, other, "shared-key-01")
    assert (response.status_code, code_of(response)) == (422, "idempotency_key_reused")
    assert (stock_of(app, other), len(orders_of(app))) == (5, 1)


def test_keys_are_per_person(client, app, make, auth, clock, mall):
    neighbour = make.supervisee(mall.office, mall.officer.officer)
    make.give(mall.person, 100)
    make.give(neighbour, 100)
    item_id = make.item(mall.office)
    mine = redeem(client, mall.phone, item_id, "common-key-1")
    theirs = redeem(client, auth.supervisee(neighbour), item_id, "common-key-1")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_a_refused_key_can_be_used_again_once_the_cause_is_gone(client, app, make, clock, mall):
    item_id = make.item(mall.office, cost=10)
    assert code_of(redeem(client, mall.phone, item_id, "first-try-1")) == "insufficient_points"
    make.give(mall.person, 10)
    assert redeem(client, mall.phone, item_id, "first-try-1").status_code == 201


def test_officers_cannot_redeem(client, app, make, clock, mall, officer):
    item_id = make.item(mall.office)
    assert redeem(client, officer, item_id).status_code == 403


# --- orders --------------------------------------------------------------------------------

@pytest.fixture
def order(client, app, make, clock, mall):
    """A pending order of 30 points for an item with 4 left; 20 points remain."""
    make.give(mall.person, 50)
    item_id = make.item(mall.office, cost=30, stock=5)
    response = redeem(client, mall.phone, item_id)
    assert response.status_code == 201
    return response.get_json()


def test_an_officer_hands_an_order_over(client, app, clock, mall, officer, order):
    response = client.post(f"{ORDERS}/{order['id']}/fulfil", json={}, headers=officer)
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["fulfilled_at"]) == ("fulfilled", "2026-11-25T02:00:30Z")
    [row] = orders_of(app)
    assert (row.status, row.closed_by) == ("fulfilled", mall.officer.officer.id)
    assert (balance_of(app, mall.person_id), stock_of(app, order["item_id"])) == (20, 4)  # nothing comes back


def test_fulfilling_with_the_persons_status_code(client, app, clock, mall, officer, order):
    token = issue_token(app.config["SETTINGS"].SECRET_KEY, clock, mall.person_id)
    response = client.post(f"{ORDERS}/{order['id']}/fulfil", json={"status_code": token}, headers=officer)
    assert (response.status_code, response.get_json()["status"]) == (200, "fulfilled")


def test_the_status_code_of_another_person_is_wrong_person(client, app, make, clock, mall, officer, order):
    other = make.supervisee(mall.office, mall.officer.officer)
    token = issue_token(app.config["SETTINGS"].SECRET_KEY, clock, other.supervisee.id)
    response = client.post(f"{ORDERS}/{order['id']}/fulfil", json={"status_code": token}, headers=officer)
    assert (response.status_code, code_of(response)) == (422, "wrong_person")
    assert orders_of(app)[0].status == "pending"


def test_a_forged_or_expired_status_code_is_refused(client, app, clock, mall, officer, order):
    secret = app.config["SETTINGS"].SECRET_KEY
    forged = issue_token("another-secret", clock, mall.person_id)
    response = client.post(f"{ORDERS}/{order['id']}/fulfil", json={"status_code": forged}, headers=officer)
    assert (response.status_code, code_of(response)) == (422, "code_invalid")
    old = issue_token(secret, lambda: clock() - timedelta(seconds=app.config["SETTINGS"].STATUS_CODE_TTL_SECONDS + 1),
                      mall.person_id)
    response = client.post(f"{ORDERS}/{order['id']}/fulfil", json={"status_code": old}, headers=officer)
    assert (response.status_code, code_of(response)) == (422, "code_expired")
    assert orders_of(app)[0].status == "pending"


def test_an_officer_cancels_and_points_and_stock_come_back_once(client, app, clock, mall, officer, order):
    response = client.post(f"{ORDERS}/{order['id']}/cancel", json={"note": "缺货"}, headers=officer)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["note"], body["cancelled_at"]) == ("cancelled", "缺货", "2026-11-25T02:00:30Z")
    assert (balance_of(app, mall.person_id), stock_of(app, order["item_id"])) == (50, 5)
    assert ledger_of(app, mall.person_id)[-2:] == [(-30, "redemption", f"order:{order['id']}"),
                                                   (30, "refund", f"order:{order['id']}")]
    again = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=officer)
    assert (again.status_code, code_of(again)) == (409, "order_already_cancelled")
    late = client.post(f"{ORDERS}/{order['id']}/fulfil", json={}, headers=officer)
    assert (late.status_code, code_of(late)) == (409, "order_already_cancelled")
    mine = client.post(f"{MY_ORDERS}/{order['id']}/cancel", json={}, headers=mall.phone)
    assert (mine.status_code, code_of(mine)) == (409, "order_already_cancelled")
    assert (balance_of(app, mall.person_id), stock_of(app, order["item_id"])) == (50, 5)
    assert_balances_match_ledger(app)


def test_the_supervisee_cancels_their_own_pending_order(client, app, clock, mall, order):
    response = client.post(f"{MY_ORDERS}/{order['id']}/cancel", json={"note": "不要了"}, headers=mall.phone)
    assert (response.status_code, response.get_json()["status"]) == (200, "cancelled")
    assert orders_of(app)[0].closed_by is None
    assert (balance_of(app, mall.person_id), stock_of(app, order["item_id"])) == (50, 5)


def test_a_fulfilled_order_cannot_be_cancelled_or_fulfilled_again(client, app, clock, mall, officer, order):
    assert client.post(f"{ORDERS}/{order['id']}/fulfil", json={}, headers=officer).status_code == 200
    for path, headers in ((f"{ORDERS}/{order['id']}/cancel", officer), (f"{MY_ORDERS}/{order['id']}/cancel",
                                                                       mall.phone),
                          (f"{ORDERS}/{order['id']}/fulfil", officer)):
        response = client.post(path, json={}, headers=headers)
        assert (response.status_code, code_of(response)) == (409, "order_already_fulfilled")
    assert (balance_of(app, mall.person_id), stock_of(app, order["item_id"])) == (20, 4)


def test_orders_of_others_are_not_found(client, app, make, auth, clock, mall, order, elsewhere):
    stranger = auth.officer(elsewhere.officer)
    for action in ("fulfil", "cancel"):
        response = client.post(f"{ORDERS}/{order['id']}/{action}", json={}, headers=stranger)
        assert (response.status_code, code_of(response)) == (404, "order_not_found")
    response = client.post(f"{MY_ORDERS}/{order['id']}/cancel", json={}, headers=elsewhere.phone)
    assert (response.status_code, code_of(response)) == (404, "order_not_found")
    assert orders_of(app)[0].status == "pending"
    assert client.get(ORDERS, headers=stranger).get_json()["items"] == []


def test_officers_list_their_scopes_orders_with_filters(client, app, make, auth, clock, mall, officer, order,
                                                        elsewhere):
    other = make.supervisee(mall.office, mall.officer.officer)
    make.give(other, 100)
    second = redeem(client, auth.supervisee(other), order["item_id"]).get_json()
    make.give(elsewhere.person, 100)
    theirs = make.item(elsewhere.office)
    assert redeem(client, elsewhere.phone, theirs).status_code == 201
    assert client.post(f"{ORDERS}/{second['id']}/fulfil", json={}, headers=officer).status_code == 200

    def listed(**params):
        response = client.get(ORDERS, query_string=params, headers=officer)
        assert response.status_code == 200, response.get_json()
        return [o["id"] for o in response.get_json()["items"]]

    assert listed() == [second["id"], order["id"]]  # newest first, this office only
    assert listed(status="pending") == [order["id"]]
    assert listed(status="fulfilled") == [second["id"]]
    assert listed(supervisee_id=mall.person_id) == [order["id"]]
    assert listed(limit=1) == [second["id"]]
    assert client.get(ORDERS, query_string={"status": "lost"}, headers=officer).status_code == 422
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=mall.office.bureau_id))
    assert [o["id"] for o in client.get(ORDERS, headers=supervisor).get_json()["items"]] == [
        second["id"], order["id"]]
    assert client.get(ORDERS, headers=mall.phone).status_code == 403


def test_supervisees_list_their_own_orders(client, app, make, auth, clock, mall, order):
    other = make.supervisee(mall.office, mall.officer.officer)
    make.give(other, 100)
    assert redeem(client, auth.supervisee(other), order["item_id"]).status_code == 201
    make.give(mall.person, 100)
    newer = redeem(client, mall.phone, order["item_id"]).get_json()
    listed = client.get(MY_ORDERS, headers=mall.phone).get_json()
    assert [o["id"] for o in listed["items"]] == [newer["id"], order["id"]]
    assert listed["items"][1] == order


def test_closing_orders_is_audited(client, app, make, auth, clock, mall, officer, order):
    assert client.post(f"{ORDERS}/{order['id']}/fulfil", json={}, headers=officer).status_code == 200
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=mall.office.bureau_id))
    entries = client.get(f"{API}/audit", query_string={"target_type": "order"}, headers=supervisor)
    assert [(e["action"], e["target_id"], e["outcome"]) for e in entries.get_json()["items"]] == [
        ("mall.order_fulfil", order["id"], "ok")]

