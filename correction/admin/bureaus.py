"""The first bureau and its first admin, made from a deployment's console (``flask admin``).

The console is trusted as the database is: the admin typed their own password there, so it need
not be changed, and the TOTP secret is shown there once and counts as enrolled, so the first
login through the API already needs a code from it. Officers made through the API enrol instead.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher

from ..auth.enrolment import new_totp_secret
from ..errors import Conflict, NotFound, ValidationFailed
from ..passwords import password_refusal
from ..people.models import Bureau, Officer


def create_bureau(session, *, code: str, name: str) -> Bureau:
    """Create a bureau; a second one with the same code is refused."""
    if session.execute(sa.select(Bureau.id).where(Bureau.code == code)).first():
        raise Conflict(f"A bureau with code {code!r} already exists.", code="bureau_code_taken")
    bureau = Bureau(code=code, name=name)
    session.add(bureau)
    session.flush()
    return bureau


def create_console_admin(session, settings, hasher: PasswordHasher, *, bureau_code: str, username: str,
                         name: str, password: str, now: datetime) -> Officer:
    """Create an admin of the bureau with their own password and a TOTP secret enrolled from the console."""
    bureau = session.execute(sa.select(Bureau).where(Bureau.code == bureau_code)).scalar_one_or_none()
    if bureau is None:
        raise NotFound(f"No bureau with code {bureau_code!r}.", code="bureau_not_found")
    if session.execute(sa.select(Officer.id).where(Officer.username == username)).first():
        raise Conflict(f"The username {username!r} is taken.", code="username_taken")
    refusal = password_refusal(settings, password, (username,))
    if refusal is not None:
        raise ValidationFailed(refusal[1], code=refusal[0])
    admin = Officer(bureau_id=bureau.id, office_id=None, username=username, name=name, role="admin",
                    password_hash=hasher.hash(password), password_change_required=False,
                    totp_secret=new_totp_secret(), totp_enrolled_at=now, failed_logins=0, active=True,
                    created_at=now)
    session.add(admin)
    session.flush()
    return admin
