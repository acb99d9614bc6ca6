"""Shared schema pieces: strict inputs, typed outputs, text without control characters."""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import (AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field,
                      PlainSerializer, StringConstraints, WithJsonSchema)

from .errors import ValidationFailed

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MAX_ID = 2**31 - 1  # ids are INTEGER columns: 32-bit on PostgreSQL; a larger id names nothing
Id = Annotated[int, Field(ge=1, le=MAX_ID)]  # an object id in a body or a query string


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def Text(max_length: int, min_length: int = 1):  # noqa: N802 - reads as a type
    """A trimmed string of bounded length without control characters."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length,
                                            max_length=max_length), AfterValidator(_printable)]


Password = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_printable)]

UtcDateTime = Annotated[
    AwareDatetime,
    PlainSerializer(lambda v: _iso_z(v), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _iso_z(value: datetime) -> str:
    from .time import iso_z
    return iso_z(value)


class Input(BaseModel):
    """A request body: unknown fields are refused, NaN and infinities too."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Query(BaseModel):
    """A query string: unknown parameters are ignored, as browsers and proxies add some."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class Output(BaseModel):
    """A response body, read from ORM objects or dicts."""

    model_config = ConfigDict(from_attributes=True)


class PageQuery(Query):
    """Pagination: ``limit`` items after the opaque ``cursor``."""

    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_\-=]*$")] | None = None


T = TypeVar("T")


class Page(Output, Generic[T]):
    """A page of items and the cursor of the next page (null on the last)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    """Return an opaque cursor for the sort key ``values`` of the last item served."""
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    """Return the sort key values inside ``cursor``; a bad cursor is a 422."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or not values:
            raise ValueError
        return values
    except ValueError:
        raise ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                               details={"fields": [{"path": "query.cursor", "code": "invalid",
                                                    "message": "not a cursor from this API"}]}) from None


def paginate(session, stmt: sa.Select, id_column, query: PageQuery, *, descending: bool = False) -> dict:
    """Run ``stmt`` as one keyset page ordered by ``id_column``; return items and next cursor."""
    if query.cursor:
        (after,) = decode_cursor(query.cursor)[:1]
        # bool is an int too, and an id beyond the column's range fails in SQL on PostgreSQL
        if type(after) is not int or not 0 <= after <= MAX_ID:
            raise ValidationFailed("The cursor is not valid.", code="invalid_cursor")
        stmt = stmt.where(id_column < after if descending else id_column > after)
    order = id_column.desc() if descending else id_column.asc()
    rows = list(session.execute(stmt.order_by(order).limit(query.limit + 1)).scalars())
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = encode_cursor([getattr(rows[-1], id_column.key)])
    return {"items": rows, "next_cursor": next_cursor}
