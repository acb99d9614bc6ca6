"""Queueing messages for officers' group robots (DingTalk or WeCom), once per ``dedupe_key``."""
from __future__ import annotations

from datetime import datetime

from ..database import insert_for
from .models import OfficerMessage
from .service import wake_dispatcher


def tell_officers(session, *, bureau_id: int, office_id: int | None, kind: str, title: str, text: str,
                  now: datetime, dedupe_key: str) -> bool:
    """Queue a message for an office's robot (``office_id`` None: the bureau's); return whether it is new."""
    stmt = insert_for(session)(OfficerMessage).values(
        bureau_id=bureau_id, office_id=office_id, kind=kind, title=title, text=text, dedupe_key=dedupe_key,
        created_at=now).on_conflict_do_nothing(index_elements=["dedupe_key"])
    queued = session.execute(stmt.returning(OfficerMessage.id)).scalar_one_or_none() is not None
    if queued:
        wake_dispatcher(session)
    return queued
