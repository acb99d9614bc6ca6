"""Request and response bodies of the points mall."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ..schemas import Input, Output, PageQuery, Text, UtcDateTime
from ..time import LATEST

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]  # id columns are 32-bit INTEGER on PostgreSQL
Cost = Annotated[int, Field(ge=1, le=1_000_000)]
Stock = Annotated[int, Field(ge=0, le=1_000_000)]
Limit = Annotated[int, Field(ge=1, le=1000)]
ImageUrl = Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://[^\s]+$")]
IDEMPOTENCY_KEY = r"^[A-Za-z0-9_\-]{8,64}$"


class ItemIn(Input):
    name: Text(100)
    description: Text(1000, min_length=0) = ""
    cost: Cost
    stock: Stock
    monthly_limit: Limit | None = None
    active: bool = True
    image_url: ImageUrl | None = None
    office_id: Id | None = Field(default=None, description="Supervisors only: the office that offers it.")


class ItemUpdate(Input):
    name: Text(100) = None
    description: Text(1000, min_length=0) = None
    cost: Cost = None
    stock: Stock = None
    monthly_limit: Limit | None = None
    active: bool = None
    image_url: ImageUrl | None = None


class ItemOut(Output):
    id: int
    office_id: int
    name: str
    description: str
    cost: int
    stock: int
    monthly_limit: int | None
    active: bool
    image_url: str | None


class OrderIn(Input):
    item_id: Id


class OrderOut(Output):
    id: int
    supervisee_id: int
    office_id: int
    item_id: int
    cost: int
    status: Literal["pending", "fulfilled", "cancelled"]
    created_at: UtcDateTime
    fulfilled_at: UtcDateTime | None
    cancelled_at: UtcDateTime | None
    note: str | None


class OrderQuery(PageQuery):
    status: Literal["pending", "fulfilled", "cancelled"] | None = None
    supervisee_id: Id | None = None


class FulfilIn(Input):
    status_code: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="The supervisee's scanned status code (矫正码), to check the person.")


class CancelIn(Input):
    note: Text(500) | None = None


class AdjustmentIn(Input):
    supervisee_id: Id
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    reason: Text(500)


class LedgerEntryOut(Output):
    id: int
    delta: int
    event: str
    event_ref: str
    reason: str
    officer_id: int | None
    created_at: UtcDateTime


class BalanceOut(Output):
    supervisee_id: int
    balance: int
    earned_this_month: int
    spent_this_month: int


Cap = Annotated[int, Field(ge=1, le=1_000_000)]


class RuleVersionIn(Input):
    points: Annotated[int, Field(ge=-1_000_000, le=1_000_000, description="Bounded by POINT_RULE_MAX_POINTS.")]
    daily_cap: Cap | None = Field(default=None, description="Most points per local day; awards only.")
    weekly_cap: Cap | None = Field(default=None, description="Most points per ISO week; awards only.")
    active: bool = True
    description: Text(200) | None = Field(default=None, description="Defaults to the version it follows.")
    effective_from: Annotated[date, Field(lt=LATEST.date())] = Field(
        description="The local date the change takes effect: today or later.")
    reason: Text(500)


class RuleVersionOut(Output):
    id: int
    event: str
    bureau_id: int | None = Field(description="None: the default every bureau starts with.")
    points: int
    daily_cap: int | None
    weekly_cap: int | None
    active: bool
    description: str
    effective_from: date
    reason: str
    changed_by: int | None
    created_at: UtcDateTime


class RuleInForceOut(Output):
    event: str
    current: RuleVersionOut
    upcoming: RuleVersionOut | None = Field(description="The next scheduled change, if any.")


class RulesOut(Output):
    items: list[RuleInForceOut]


class RuleHistoryOut(Output):
    items: list[RuleVersionOut]
