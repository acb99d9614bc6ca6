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
from .time import iso_z, parse_utc_instant, utc_instant

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
    AfterValidator(utc_instant),  # in UTC, and within the years the API accepts (time.EARLIEST..LATEST)
    PlainSerializer(lambda v: _iso_z(v), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _iso_z(value: datetime) -> str:
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


Cursor = Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_\-=]*$")]  # opaque, ours


class PageQuery(Query):
    """Pagination: ``limit`` items after the opaque ``cursor``."""

    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None


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
        # the API never writes NaN or infinities, so a cursor holding one is not ours
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()), parse_constant=_no_constant)
        if not isinstance(values, list) or not values:
            raise ValueError
        return values
    except (ValueError, RecursionError):
        raise invalid_cursor() from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a cursor value")


def invalid_cursor() -> ValidationFailed:
    """The error for a cursor this API did not make."""
    return ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                            details={"fields": [{"path": "query.cursor", "code": "invalid",
                                                 "message": "not a cursor from this API"}]})


def cursor_id(value: Any) -> int:
    """Return an id read from a cursor; ValueError unless it is an int an id column can hold."""
    # bool is an int too, and an id beyond the column's range fails in SQL on PostgreSQL
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise ValueError("not an id")
    return value


def cursor_instant(value: Any) -> datetime:
    """Return the UTC instant read from a cursor; ValueError unless it is ISO 8601 with a zone, in range."""
    return parse_utc_instant(value)


def paginate(session, stmt: sa.Select, id_column, query: PageQuery, *, descending: bool = False) -> dict:
    """Run ``stmt`` as one keyset page ordered by ``id_column``; return items and next cursor."""
    if query.cursor:
        (after,) = decode_cursor(query.cursor)[:1]
        try:
            after = cursor_id(after)
        except ValueError:
            raise invalid_cursor() from None
        stmt = stmt.where(id_column < after if descending else id_column > after)
    order = id_column.desc() if descending else id_column.asc()
    rows = list(session.execute(stmt.order_by(order).limit(query.limit + 1)).scalars())
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = encode_cursor([getattr(rows[-1], id_column.key)])
    return {"items": rows, "next_cursor": next_cursor}
