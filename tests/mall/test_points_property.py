"""Property: whatever the sequence of awards, adjustments, redemptions, cancellations and hand-overs,
each balance equals its ledger's sum after every step, and no stock goes below zero.

Each example builds its own people and items (the app and database fixtures are shared by the
examples of one test), and checks the API's answers against a tiny model as it goes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

from correction.database import db
from correction.mall import points
from correction.mall.models import MallItem
from tests.assertions import assert_balances_match_ledger, balance_of, stock_of
from tests.factories import ADJUST, ITEMS, MY_ORDERS, ORDERS, new_key, redeem

EVENTS = ["checkin_remote", "checkin_station", "spot_check_passed", "compliant_week", "missed_checkin",
          "zone_breach", "mock_location"]
PEOPLE, ITEM_COUNT = 2, 2

person = st.integers(0, PEOPLE - 1)
item = st.integers(0, ITEM_COUNT - 1)
order = st.integers(0, 7)
redeem_step = st.tuples(st.just("redeem"), person, item, st.booleans())
cancel_step = st.tuples(st.just("cancel"), order, st.booleans())
steps = st.lists(st.one_of(
    st.tuples(st.just("award"), person, st.sampled_from(EVENTS)),
    st.tuples(st.just("adjust"), person, st.one_of(st.integers(-100, -1), st.integers(1, 100))),
    redeem_step, redeem_step, redeem_step, cancel_step, cancel_step,
    st.tuples(st.just("fulfil"), order),
    st.tuples(st.just("restock"), item, st.integers(0, 2), st.booleans()),
    st.tuples(st.just("tick"), st.integers(1, 30)),
), min_size=8, max_size=25)
starting = st.lists(st.integers(0, 150), min_size=PEOPLE, max_size=PEOPLE)
items_spec = st.lists(st.tuples(st.integers(1, 60), st.integers(0, 3), st.sampled_from([None, 1, 2])),
                      min_size=ITEM_COUNT, max_size=ITEM_COUNT)


@pytest.fixture
def mall(make):
    """An office, its officer, and one ``normal`` supervisee logged in on their phone."""
    return make.scene()


@dataclass
class Model:
    balance: list[int]
    stock: list[int]
    item_ids: list[int]
    cost: list[int]
    active: list[bool]
    orders: list[dict] = field(default_factory=list)  # id, person, item, status
    keys: list[tuple[str, int] | None] = field(default_factory=lambda: [None] * PEOPLE)


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=steps, spec=items_spec, start=starting)
def test_balance_equals_ledger_and_stock_stays_non_negative(app, client, make, auth, clock, mall, plan, spec,
                                                            start):
    people = [make.supervisee(mall.office, mall.officer.officer) for _ in range(PEOPLE)]
    ids = [p.supervisee.id for p in people]
    for login, points_ in zip(people, start):
        if points_:
            make.give(login, points_)

    def log_in():
        return [auth.supervisee(p) for p in people], auth.officer(mall.officer)

    phones, officer = log_in()
    item_ids = [make.item(mall.office, cost=cost, stock=stock, monthly_limit=limit)
                for cost, stock, limit in spec]
    model = Model(balance=list(start), stock=[s for _, s, _ in spec], item_ids=item_ids,
                  cost=[c for c, _, _ in spec], active=[True] * ITEM_COUNT)

    for n, step in enumerate(plan):
        kind = step[0]
        if kind == "award":
            _, who, event = step
            with app.app_context():
                entry = points.award(db.session, app.config["SETTINGS"], supervisee_id=ids[who],
                                     office_id=mall.office.id, event=event, event_ref=f"prop:{ids[who]}:{n}",
                                     now=clock())
                model.balance[who] += entry.delta if entry is not None else 0
                db.session.commit()
        elif kind == "adjust":
            _, who, delta = step
            response = client.post(ADJUST, json={"supervisee_id": ids[who], "delta": delta, "reason": "性质测试"},
                                   headers=officer)
            assert response.status_code == 201, response.get_json()
            model.balance[who] += delta
        elif kind == "redeem":
            _, who, which, reuse = step
            previous = model.keys[who]
            key = previous[0] if reuse and previous else new_key()
            response = redeem(client, phones[who], item_ids[which], key)
            body = response.get_json()
            label(f"redeem: {response.status_code} {body.get('error', {}).get('code', '')}".strip())
            if response.status_code == 201:
                assert model.balance[who] >= model.cost[which] and model.stock[which] > 0 and model.active[which]
                model.balance[who] -= model.cost[which]
                model.stock[which] -= 1
                model.orders.append({"id": body["id"], "person": who, "item": which, "status": "pending"})
                model.keys[who] = (key, which)
            elif response.status_code == 200:
                assert previous == (key, which) and body["item_id"] == item_ids[which]
            elif response.status_code == 422:
                assert body["error"]["code"] == "idempotency_key_reused" and previous[1] != which
            else:
                assert response.status_code == 409, body
                reason = body["error"]["code"]
                assert reason in ("insufficient_points", "out_of_stock", "limit_reached", "item_inactive")
                if reason == "insufficient_points":
                    assert model.balance[who] < model.cost[which]
                if reason == "out_of_stock":
                    assert model.stock[which] == 0
                if reason == "item_inactive":
                    assert not model.active[which]
        elif kind in ("cancel", "fulfil"):
            if not model.orders:
                continue
            target = model.orders[step[1] % len(model.orders)]
            if kind == "cancel" and step[2]:
                response = client.post(f"{MY_ORDERS}/{target['id']}/cancel", json={},
                                       headers=phones[target["person"]])
            else:
                response = client.post(f"{ORDERS}/{target['id']}/{kind}", json={}, headers=officer)
            label(f"{kind}: {response.status_code}")
            if target["status"] != "pending":
                assert response.status_code == 409
                assert response.get_json()["error"]["code"] == f"order_already_{target['status']}"
            else:
                assert response.status_code == 200, response.get_json()
                target["status"] = "cancelled" if kind == "cancel" else "fulfilled"
                if kind == "cancel":
                    model.balance[target["person"]] += model.cost[target["item"]]
                    model.stock[target["item"]] += 1
        elif kind == "restock":
            _, which, stock, active = step
            response = client.patch(f"{ITEMS}/{item_ids[which]}", json={"stock": stock, "active": active},
                                    headers=officer)
            assert response.status_code == 200, response.get_json()
            model.stock[which], model.active[which] = stock, active
        elif kind == "tick":
            clock.advance(hours=step[1])
            phones, officer = log_in()

        assert_balances_match_ledger(app)
        assert [balance_of(app, i) or 0 for i in ids] == model.balance
        assert [stock_of(app, i) for i in item_ids] == model.stock
        with app.app_context():
            assert db.session.execute(sa.select(sa.func.min(MallItem.stock))).scalar_one() >= 0
