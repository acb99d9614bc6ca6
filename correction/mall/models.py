"""Points mall (积分商城): point rules, the ledger, balances, items and orders."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db

ORDER_STATUSES = ("pending", "fulfilled", "cancelled")


class PointRuleVersion(db.Model):
    """What an event is worth from a local date on: points, optional daily and weekly caps.

    Rows are never changed or deleted (a database trigger refuses it): a change appends a
    version. ``bureau_id`` NULL is the default every bureau starts with; a bureau's own version
    of an event takes over from its ``effective_from``. ``effective_at`` is that local date's
    midnight in UTC, so SQL compares instants and never converts time zones.
    """

    __tablename__ = "point_rule_versions"
    __table_args__ = (
        sa.UniqueConstraint("event", "bureau_id", "effective_from", name="uq_point_rule_versions_bureau_day"),
        sa.Index("uq_point_rule_versions_default_day", "event", "effective_from", unique=True,
                 sqlite_where=sa.text("bureau_id IS NULL"), postgresql_where=sa.text("bureau_id IS NULL")),
        sa.CheckConstraint("(daily_cap IS NULL OR daily_cap > 0) AND (weekly_cap IS NULL OR weekly_cap > 0)",
                           name="caps_positive"),
        sa.CheckConstraint("points > 0 OR (daily_cap IS NULL AND weekly_cap IS NULL)", name="caps_on_awards_only"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    bureau_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bureaus.id"))
    points: Mapped[int]
    daily_cap: Mapped[int | None]
    weekly_cap: Mapped[int | None]
    active: Mapped[bool]
    description: Mapped[str] = mapped_column(sa.String(200))
    effective_from: Mapped[date]
    effective_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(sa.String(500))
    changed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
    created_at: Mapped[datetime]


class PointEntry(db.Model):
    """One line of the append-only ledger. (supervisee, event, event_ref) is unique: no double awards."""

    __tablename__ = "point_entries"
    __table_args__ = (
        sa.UniqueConstraint("supervisee_id", "event", "event_ref", name="uq_point_entries_event"),
        sa.Index("ix_point_entries_supervisee_id_id", "supervisee_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    delta: Mapped[int]
    event: Mapped[str] = mapped_column(sa.String(40))
    event_ref: Mapped[str] = mapped_column(sa.String(80))
    reason: Mapped[str] = mapped_column(sa.String(500))
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
    created_at: Mapped[datetime]
    # The rule version that scored this line (None: not from a rule, or posted before versions).
    # (No foreign key: adding one on SQLite rebuilds the table and loses the append-only triggers.)
    rule_version_id: Mapped[int | None]


class PointBalance(db.Model):
    """The running sum of a supervisee's ledger, changed only with a ledger line, same transaction."""

    __tablename__ = "point_balances"
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(default=0)


class MallItem(db.Model):
    """A reward an office hands out."""

    __tablename__ = "mall_items"
    __table_args__ = (
        sa.CheckConstraint("cost > 0", name="cost_positive"),
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint("monthly_limit IS NULL OR monthly_limit > 0", name="limit_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    cost: Mapped[int]
    stock: Mapped[int]
    monthly_limit: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    image_url: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Order(db.Model):
    """A redemption: pending until handed over (fulfilled) or cancelled (points and stock restored)."""

    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("supervisee_id", "idempotency_key", name="uq_orders_idempotency"),
        sa.Index("ix_orders_office_id_status", "office_id", "status"),
        sa.Index("ix_orders_supervisee_id_item_id", "supervisee_id", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("mall_items.id"))
    cost: Mapped[int]
    status: Mapped[str] = mapped_column(sa.Enum(*ORDER_STATUSES, name="order_status", native_enum=False,
                                                create_constraint=True, length=10), default="pending")
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    fulfilled_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
    note: Mapped[str | None] = mapped_column(sa.String(500))
