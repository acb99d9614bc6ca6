"""The supervisees list, and the parts of a supervisee's page the features serve only to the person themself.

One page of the list is one statement: the people in scope that match, each with its status
code colour (``monitoring.status_code``), last check-in, last fix and count of unresolved alerts
as correlated subqueries over the per-person indexes, so a page costs about the same in an office
of 50 or of 10,000 (a colour filter that matches few rows reads more: see ``benchmarks/roster.py``).
Keyset paging by id, as the API's lists.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from ..alerts.models import Alert
from ..checkins.models import Checkin
from ..locations.models import LocationFix
from ..leave.models import LeaveRequest
from ..mall.models import PointBalance, PointEntry
from ..monitoring.status_code import colour_of
from ..people.access import Principal
from ..people.models import Office, Supervisee
from ..people.schemas import Level
from ..people.service import search_supervisees
from ..schemas import (Cursor, Id, PageQuery, Query, cursor_id, decode_cursor, encode_cursor, invalid_cursor,
                       paginate)

_WHOLE_ID = re.compile(r"[0-9]{17}[0-9X]")


def _not_a_whole_id(text: str) -> str:
    # The search text is in the address and the audit trail: a whole ID number must not be.
    if _WHOLE_ID.fullmatch(unicodedata.normalize("NFKC", text).strip().upper()):
        raise PydanticCustomError("whole_id_number", "search by the last four characters of an ID number")
    return text


class RosterQuery(PageQuery):
    """The list's search box and filters."""

    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                 AfterValidator(_not_a_whole_id)] | None = None
    level: Level | None = None
    colour: Literal["green", "yellow", "red"] | None = None
    office_id: Id | None = None


class PersonPageQuery(Query):
    """Where each paged part of a supervisee's page starts."""

    timeline: Cursor | None = None
    ledger: Cursor | None = None
    leave: Cursor | None = None


def roster(session, settings, principal: Principal, query: RosterQuery, now: datetime) -> dict:
    """One page of the supervisees in scope matching ``query``, with their figures; and the next cursor."""
    colour = colour_of(settings, Supervisee.id, now)
    last_checkin = (sa.select(sa.func.max(Checkin.received_at))
                    .where(Checkin.supervisee_id == Supervisee.id, Checkin.outcome == "accepted")
                    .scalar_subquery().label("last_checkin_at"))
    last_fix = (sa.select(sa.func.max(LocationFix.recorded_at)).where(LocationFix.supervisee_id == Supervisee.id)
                .scalar_subquery().label("last_fix_at"))
    open_alerts = (sa.select(sa.func.count()).where(Alert.supervisee_id == Supervisee.id, Alert.status != "resolved")
                   .scalar_subquery().label("open_alerts"))
    stmt = (search_supervisees(principal, {"level": query.level, "office_id": query.office_id, "match": query.q})
            .with_only_columns(Supervisee.id, Supervisee.name, Supervisee.level, Supervisee.status,
                               Office.name.label("office"), colour.label("colour"), last_checkin, last_fix, open_alerts)
            .join(Office, Office.id == Supervisee.office_id))
    if query.colour:
        stmt = stmt.where(colour == query.colour)
    if query.cursor:
        try:
            stmt = stmt.where(Supervisee.id > cursor_id(decode_cursor(query.cursor)[0]))
        except ValueError:
            raise invalid_cursor() from None
    rows = session.execute(stmt.order_by(Supervisee.id).limit(query.limit + 1)).all()
    next_cursor = encode_cursor([rows[query.limit - 1].id]) if len(rows) > query.limit else None
    return {"rows": rows[: query.limit], "next_cursor": next_cursor}


def balance(session, supervisee_id: int) -> int:
    """The points balance (kept equal to the ledger by ``mall.points``); 0 before any line."""
    return session.execute(sa.select(PointBalance.balance).where(PointBalance.supervisee_id == supervisee_id)
                           ).scalar_one_or_none() or 0


def ledger_page(session, supervisee_id: int, query: PageQuery) -> dict:
    """A page of the person's points ledger, newest first (what ``/me/points/ledger`` shows them)."""
    return paginate(session, sa.select(PointEntry).where(PointEntry.supervisee_id == supervisee_id), PointEntry.id,
                    query, descending=True)


def leave_page(session, supervisee_id: int, query: PageQuery) -> dict:
    """A page of the person's leave requests, newest first."""
    return paginate(session, sa.select(LeaveRequest).where(LeaveRequest.supervisee_id == supervisee_id),
                    LeaveRequest.id, query, descending=True)
