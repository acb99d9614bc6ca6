"""Officers' group robots (DingTalk or WeCom) of the bureau and its offices, set by admins.

The webhook (it carries the robot's token) and the signing secret are write-only: answers and
audit entries say only which provider, which host, and whether a secret is set.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..errors import NotFound
from ..notifications.models import Robot
from ..people.access import Principal
from ..people.models import Bureau
from .offices import get_office

KEEP = object()  # "secret" not sent: the stored one stays


def describe(robot: Robot) -> dict:
    """What may be shown of a robot: never its webhook's token or its secret."""
    return {"office_id": robot.office_id, "provider": robot.provider,
            "webhook_host": urlsplit(robot.webhook_url).hostname, "secret_set": bool(robot.secret),
            "updated_at": robot.updated_at}


def get_robot(session, principal: Principal, office_id: int | None) -> Robot:
    """The robot of an office of the caller's bureau (or of the bureau, ``office_id`` None); 404 if none."""
    if office_id is not None:
        get_office(session, principal, office_id)
    robot = _find(session, principal.bureau_id, office_id, lock=False)
    if robot is None:
        raise NotFound("No robot is set here.", code="robot_not_found")
    return robot


def set_robot(session, principal: Principal, office_id: int | None, *, provider: str, webhook_url: str,
              secret, now: datetime) -> tuple[Robot, dict]:
    """Set (or replace) the robot; ``secret`` KEEP leaves the stored one. Return it and the audit details."""
    if office_id is not None:
        get_office(session, principal, office_id)
    # Two admins setting the same robot at once: the second waits, then replaces the first's.
    session.execute(sa.select(Bureau.id).where(Bureau.id == principal.bureau_id).with_for_update())
    robot = _find(session, principal.bureau_id, office_id, lock=True)
    before = describe(robot) if robot else None
    webhook_changed = robot is None or robot.webhook_url != webhook_url
    if robot is None:
        robot = Robot(bureau_id=principal.bureau_id, office_id=office_id)
        session.add(robot)
    robot.provider, robot.webhook_url, robot.updated_at = provider, webhook_url, now
    if secret is not KEEP:
        robot.secret = secret or None
    session.flush()
    after = describe(robot)
    details = {"before": _audited(before), "after": _audited(after),
               "webhook_changed": webhook_changed,
               "secret_changed": secret is not KEEP}
    return robot, details


def remove_robot(session, principal: Principal, office_id: int | None) -> dict:
    """Remove the robot; return the audit details (what was removed, never its secret)."""
    robot = get_robot(session, principal, office_id)
    details = {"before": _audited(describe(robot))}
    session.delete(robot)
    session.flush()
    return details


def _find(session, bureau_id: int, office_id: int | None, *, lock: bool) -> Robot | None:
    stmt = sa.select(Robot).where(Robot.bureau_id == bureau_id,
                                  Robot.office_id == office_id if office_id is not None else Robot.office_id.is_(None))
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()


def _audited(description: dict | None) -> dict | None:
    if description is None:
        return None
    return {k: v for k, v in description.items() if k != "updated_at"}
