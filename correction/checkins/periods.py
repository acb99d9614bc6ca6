"""Periods of stepped-up supervision (临时加强监管): declared by a bureau, cancelled early, read.

Around sensitive dates a bureau's supervisor declares a period: extra check-in windows every day
and a weekly spot-check quota for the people of some offices and levels. The windows themselves
are in ``period_windows``; the quota's spot checks in ``period_spot_checks``. Everyone covered is
told, once, when a period is declared and when it is cancelled.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..database import insert_for, json_object
from ..errors import Conflict, DomainError, NotFound, ValidationFailed
from ..notifications.models import Notification
from ..notifications.service import wake_dispatcher
from ..people.access import Principal
from ..people.models import Office, Supervisee
from ..time import TZDateTime, iso_z
from .models import SupervisionPeriod, SupervisionPeriodOffice
from .period_windows import covered, local_today
from .windows import _clock_time

NOT_FOUND = NotFound("No such supervision period.", code="period_not_found")


@dataclass
class PeriodDraft:
    """What a supervisor asks for, as the schema parsed it."""

    name: str
    reason: str
    starts_on: date
    ends_on: date
    office_ids: list[int]
    levels: list[str]
    windows: list[dict[str, str]]
    spot_checks_per_week: int


def declare(session, settings, principal: Principal, draft: PeriodDraft, now: datetime) -> SupervisionPeriod:
    """Declare a period for the caller's bureau and tell everyone it covers."""
    _require_bureau_role(principal)
    office_ids = sorted(set(draft.office_ids))
    _check(session, settings, principal, draft, office_ids, now)
    period = SupervisionPeriod(
        bureau_id=principal.bureau_id, name=draft.name, reason=draft.reason, starts_on=draft.starts_on,
        ends_on=draft.ends_on, levels=sorted(set(draft.levels), key=("strict", "normal", "lenient").index),
        windows=sorted(draft.windows, key=lambda w: w["opens"]), spot_checks_per_week=draft.spot_checks_per_week,
        declared_by=principal.id, declared_at=now)
    session.add(period)
    session.flush()
    session.add_all([SupervisionPeriodOffice(period_id=period.id, office_id=office_id) for office_id in office_ids])
    session.flush()
    _tell_covered(session, period, "declared", "临时加强监管通知", _declared_text(settings, period), now)
    return period


def cancel(session, settings, principal: Principal, period_id: int, reason: str, now: datetime) -> SupervisionPeriod:
    """End a period from now on: windows that have not closed yet are dropped; tell everyone it covered."""
    period = period_in_scope(session, principal, period_id)
    _require_bureau_role(principal)
    if period.cancelled_at is not None or period.ends_on < local_today(settings, now):
        raise Conflict("This period is already over.", code="period_over")
    ended = session.execute(sa.update(SupervisionPeriod).where(
        SupervisionPeriod.id == period.id, SupervisionPeriod.cancelled_at.is_(None)
    ).values(cancelled_at=now, cancelled_by=principal.id, cancel_reason=reason),
        execution_options={"preserve_rowcount": True}).rowcount
    if not ended:  # a concurrent cancellation got there first
        raise Conflict("This period is already over.", code="period_over")
    session.refresh(period)
    local = now.astimezone(ZoneInfo(settings.LOCAL_TIMEZONE))
    _tell_covered(session, period, "cancelled", "临时加强监管解除通知",
                  f"{period.name}：临时加强监管自{_chinese_date(local.date())}{local:%H:%M}起解除，"
                  "恢复日常签到。", now)
    return period


def period_in_scope(session, principal: Principal, period_id: int) -> SupervisionPeriod:
    """The period if the caller may see it (their bureau's; an officer's office covered), else 404."""
    period = session.execute(sa.select(SupervisionPeriod).where(
        SupervisionPeriod.id == period_id, visible_to(principal))).scalar_one_or_none()
    if period is None:
        raise NOT_FOUND
    return period


def visible_to(principal: Principal) -> sa.ColumnElement[bool]:
    """Periods a caller sees: a supervisor or admin, their bureau's; an officer, those covering their office."""
    if principal.kind != "officer":
        return sa.false()
    mine = SupervisionPeriod.bureau_id == principal.bureau_id
    if principal.bureau_wide:
        return mine
    listed = sa.select(SupervisionPeriodOffice.office_id).where(
        SupervisionPeriodOffice.period_id == SupervisionPeriod.id)
    return sa.and_(mine, sa.or_(~listed.exists(), listed.where(
        SupervisionPeriodOffice.office_id == principal.office_id).exists()))


def describe(session, settings, periods: list[SupervisionPeriod], now: datetime, *, count: bool = False) -> list[dict]:
    """The periods as the API shows them: offices listed, status now, and (``count``) how many are covered."""
    offices: dict[int, list[int]] = {period.id: [] for period in periods}
    if periods:
        for period_id, office_id in session.execute(sa.select(
                SupervisionPeriodOffice.period_id, SupervisionPeriodOffice.office_id).where(
                SupervisionPeriodOffice.period_id.in_(list(offices))).order_by(SupervisionPeriodOffice.office_id)):
            offices[period_id].append(office_id)
    today = local_today(settings, now)
    shown = []
    for period in periods:
        status = ("cancelled" if period.cancelled_at is not None else "upcoming" if today < period.starts_on
                  else "ended" if today > period.ends_on else "active")
        item = {column: getattr(period, column) for column in (
            "id", "bureau_id", "name", "reason", "starts_on", "ends_on", "levels", "windows", "spot_checks_per_week",
            "declared_by", "declared_at", "cancelled_at", "cancel_reason")}
        item.update(office_ids=offices[period.id], status=status)
        if count:
            item["covered_supervisees"] = session.execute(
                sa.select(sa.func.count()).select_from(Supervisee).where(covered(session, period))).scalar_one()
        shown.append(item)
    return shown


def audit_view(period: SupervisionPeriod, office_ids: list[int] | None = None) -> dict[str, Any]:
    """What the audit trail keeps of a period, before and after a change (plain JSON)."""
    view = {"name": period.name, "reason": period.reason, "starts_on": period.starts_on.isoformat(),
            "ends_on": period.ends_on.isoformat(), "levels": period.levels, "windows": period.windows,
            "spot_checks_per_week": period.spot_checks_per_week,
            "cancelled_at": iso_z(period.cancelled_at) if period.cancelled_at else None,
            "cancel_reason": period.cancel_reason}
    if office_ids is not None:
        view["office_ids"] = office_ids
    return view


def _require_bureau_role(principal: Principal) -> None:
    if not principal.bureau_wide:
        raise DomainError("Only a bureau supervisor or admin declares or cancels stepped-up supervision.",
                          status=403, code="bureau_role_required")


def _check(session, settings, principal: Principal, draft: PeriodDraft, office_ids: list[int], now: datetime) -> None:
    """Refuse a draft that cannot be a period, naming every field that is wrong."""
    problems = []

    def wrong(path: str, code: str, message: str) -> None:
        problems.append({"path": path, "code": code, "message": message})

    today = local_today(settings, now)
    if draft.ends_on < draft.starts_on:
        wrong("ends_on", "before_start", "must not be before starts_on")
    elif (draft.ends_on - draft.starts_on).days + 1 > settings.PERIOD_MAX_DAYS:
        wrong("ends_on", "too_long", f"a period lasts at most {settings.PERIOD_MAX_DAYS} days")
    if draft.ends_on < today:
        wrong("ends_on", "in_the_past", "must not be in the past")
    if len(draft.windows) > settings.PERIOD_MAX_WINDOWS:
        wrong("windows", "too_many", f"at most {settings.PERIOD_MAX_WINDOWS} windows a day")
    spans = []
    for i, window in enumerate(draft.windows):
        opens, closes = _clock_time(window["opens"]), _clock_time(window["closes"])
        if opens >= closes:
            wrong(f"windows.{i}.closes", "not_after_opens", "must be later than opens (same day)")
        else:
            spans.append((opens, closes, i))
    spans.sort()
    for (_, closes, _), (opens, _, i) in zip(spans, spans[1:]):
        if opens < closes:
            wrong(f"windows.{i}.opens", "overlap", "windows must not overlap")
    if not draft.windows and draft.spot_checks_per_week == 0:
        wrong("windows", "nothing_stepped_up", "give windows, a spot-check quota, or both")
    if office_ids:
        ours = set(session.execute(sa.select(Office.id).where(
            Office.id.in_(office_ids), Office.bureau_id == principal.bureau_id)).scalars())
        for i, office_id in enumerate(draft.office_ids):
            if office_id not in ours:
                wrong(f"office_ids.{i}", "unknown_office", "not an office of your bureau")
    if problems:
        raise ValidationFailed(details={"fields": problems})


def _tell_covered(session, period: SupervisionPeriod, event: str, title: str, body: str, now: datetime) -> int:
    """Queue one notice per covered person (one INSERT ... SELECT; a repeat is a no-op)."""
    insert = insert_for(session)
    select = sa.select(
        Supervisee.id, sa.literal("supervision_period"), sa.literal(title), sa.literal(body),
        json_object(session, period_id=sa.literal(period.id), event=sa.literal(event),
                    starts_on=sa.literal(period.starts_on.isoformat()), ends_on=sa.literal(period.ends_on.isoformat())),
        sa.literal(f"period:{period.id}:{event}:") + sa.cast(Supervisee.id, sa.String), sa.literal(now, TZDateTime())
    ).where(covered(session, period))
    stmt = insert(Notification).from_select(
        ["supervisee_id", "kind", "title", "body", "data", "dedupe_key", "created_at"], select
    ).on_conflict_do_nothing(index_elements=["dedupe_key"])
    queued = session.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount
    if queued:
        wake_dispatcher(session)
    return queued


def _declared_text(settings, period: SupervisionPeriod) -> str:
    parts = [f"{period.name}：{_chinese_date(period.starts_on)}至{_chinese_date(period.ends_on)}实行临时加强监管。"]
    if period.windows:
        spans = "、".join(f"{w['opens']}至{w['closes']}" for w in period.windows)
        parts.append(f"这段时间每天{spans}各签到一次（日常签到照常）。")
    if period.spot_checks_per_week:
        parts.append(f"每周另有{period.spot_checks_per_week}次实时签到（点验），"
                     f"收到通知后请在{settings.SPOT_CHECK_MINUTES}分钟内签到。")
    return "".join(parts)


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"

