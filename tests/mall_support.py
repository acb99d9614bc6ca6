"""Shared helpers for the points and mall tests: a scene, direct ledger postings, DB read-backs."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from correction.database import db
from correction.mall import points
from correction.mall.models import MallItem, Order, PointBalance, PointEntry
from correction.people.models import Office
from tests.factories import API, OfficerLogin, SuperviseeLogin

ME_POINTS = f"{API}/me/points"
LEDGER = f"{API}/me/points/ledger"
ADJUST = f"{API}/points/adjustments"
ITEMS = f"{API}/mall/items"
ORDERS = f"{API}/mall/orders"
MY_ORDERS = f"{API}/me/orders"

_refs = itertools.count(1)
_keys = itertools.count(1)


def new_key() -> str:
    """A fresh, well-formed Idempotency-Key."""
    return f"key-{next(_keys):08d}"


def code_of(response) -> str:
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]["code"]


def give(app, clock, person: SuperviseeLogin, delta: int, event: str = "adjustment") -> None:
    """Post ``delta`` points to a person's ledger through the one points service, committed."""
    with app.app_context():
        entry = points.post(db.session, supervisee_id=person.supervisee.id, office_id=person.supervisee.office_id,
                            delta=delta, event=event, event_ref=f"test:{next(_refs)}", reason="test", now=clock())
        assert entry is not None
        db.session.commit()


def balance_of(app, supervisee_id: int) -> int | None:
    """The stored balance row (None when there is none yet)."""
    with app.app_context():
        return db.session.execute(sa.select(PointBalance.balance)
                                  .where(PointBalance.supervisee_id == supervisee_id)).scalar_one_or_none()


def ledger_of(app, supervisee_id: int) -> list[tuple[int, str, str]]:
    """(delta, event, event_ref) of each ledger line of the person, oldest first."""
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            sa.select(PointEntry.delta, PointEntry.event, PointEntry.event_ref)
            .where(PointEntry.supervisee_id == supervisee_id).order_by(PointEntry.id))]


def ledger_sum(app, supervisee_id: int) -> int:
    return sum(delta for delta, _, _ in ledger_of(app, supervisee_id))


def assert_balances_match_ledger(app) -> None:
    """Every balance row equals its ledger sum, and everyone with ledger lines has a balance row."""
    with app.app_context():
        sums = dict(db.session.execute(sa.select(PointEntry.supervisee_id, sa.func.sum(PointEntry.delta))
                                       .group_by(PointEntry.supervisee_id)).all())
        balances = dict(db.session.execute(sa.select(PointBalance.supervisee_id, PointBalance.balance)).all())
    assert set(sums) <= set(balances), (sums, balances)
    assert {k: balances[k] for k in sums} == sums
    assert all(v == 0 for k, v in balances.items() if k not in sums), balances


def stock_of(app, item_id: int) -> int:
    with app.app_context():
        return db.session.execute(sa.select(MallItem.stock).where(MallItem.id == item_id)).scalar_one()


def orders_of(app, *where) -> list[Order]:
    with app.app_context():
        rows = db.session.execute(sa.select(Order).where(*where).order_by(Order.id)).scalars().all()
        db.session.expunge_all()
    return list(rows)


def add_item(app, clock, office_id: int, *, name: str = "洗衣液", cost: int = 10, stock: int = 5,
             monthly_limit: int | None = None, active: bool = True) -> int:
    """An item in the database, committed; returns its id."""
    with app.app_context():
        item = MallItem(office_id=office_id, name=name, description="", cost=cost, stock=stock,
                        monthly_limit=monthly_limit, active=active, created_at=clock(), updated_at=clock())
        db.session.add(item)
        db.session.commit()
        return item.id


def redeem(client, phone: dict, item_id: int, key: str | None = None):
    return client.post(MY_ORDERS, json={"item_id": item_id},
                       headers={**phone, "Idempotency-Key": key or new_key()})


@dataclass
class Mall:
    office: Office
    officer: OfficerLogin
    person: SuperviseeLogin
    phone: dict[str, str]
    extra: dict = field(default_factory=dict)

    @property
    def person_id(self) -> int:
        return self.person.supervisee.id


@pytest.fixture
def mall(make, auth) -> Mall:
    """An office, its officer, and one ``normal`` supervisee logged in on their phone."""
    office = make.office()
    officer = make.officer(office)
    person = make.supervisee(office, officer.officer)
    return Mall(office, officer, person, auth.supervisee(person))
