"""The phone's push id (JPush registration id), kept on the active device of the login."""
from __future__ import annotations

import sqlalchemy as sa

from ..errors import DomainError
from ..people.access import Principal
from ..people.models import Device


def register(session, principal: Principal, registration_id: str) -> bool:
    """Store ``registration_id`` on the caller's phone; return whether it changed.

    The id belongs to the app on one handset: if another record held it (the handset changed
    hands, or was reset and bound again) that record loses it, so nobody's notices reach a phone
    that is no longer theirs.
    """
    if principal.device_id is None:
        raise DomainError("This login has no phone to register.", status=409, code="no_device")
    session.execute(sa.update(Device).where(Device.push_token == registration_id, Device.id != principal.device_id)
                    .values(push_token=None))
    changed = session.execute(sa.update(Device).where(
        Device.id == principal.device_id, Device.active,
        sa.or_(Device.push_token.is_(None), Device.push_token != registration_id)
    ).values(push_token=registration_id), execution_options={"preserve_rowcount": True}).rowcount
    return bool(changed)


def remove(session, principal: Principal) -> bool:
    """Forget the caller's phone's push id; return whether it had one."""
    if principal.device_id is None:
        return False
    return bool(session.execute(sa.update(Device).where(
        Device.id == principal.device_id, Device.push_token.is_not(None)).values(push_token=None),
        execution_options={"preserve_rowcount": True}).rowcount)
