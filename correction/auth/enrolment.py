"""An officer's TOTP enrolment: the pending secret shown to its holder, finished with a valid code.

The secret is made on the server (by an admin's create or TOTP reset, or the first-admin command)
and shown through these functions only while it waits; once a code from it has been accepted it
is never shown again.
"""
from __future__ import annotations

import io
from datetime import datetime

import pyotp
import qrcode
import sqlalchemy as sa
from qrcode.constants import ERROR_CORRECT_M

from ..errors import Conflict, ValidationFailed
from ..people.models import Officer
from . import lockout
from .service import accept_totp, totp_for


def new_totp_secret() -> str:
    """Return a fresh TOTP secret (160 bits, base32, as authenticator apps expect)."""
    return pyotp.random_base32(32)


def provisioning_uri(settings, officer: Officer) -> str:
    """Return the otpauth:// URI of the officer's secret, named by username and issuer."""
    return totp_for(officer.totp_secret, settings).provisioning_uri(name=officer.username,
                                                                    issuer_name=settings.TOTP_ISSUER)


def qr_png(text: str) -> bytes:
    """Return a black-on-white PNG QR code of ``text`` (an authenticator app scans it)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def pending_enrolment(settings, officer: Officer) -> dict:
    """Return what an authenticator app needs to enrol the pending secret; 409 once enrolled."""
    _refuse_if_enrolled(officer)
    return {"provisioning_uri": provisioning_uri(settings, officer), "secret": officer.totp_secret,
            "issuer": settings.TOTP_ISSUER, "account": officer.username}


def finish_enrolment(session, settings, officer: Officer, code: str, *, client: str | None,
                     now: datetime) -> None:
    """Enrol the pending secret if ``code`` is valid for it now.

    A wrong code counts as a failed login of the account from this client (guessing here is
    guessing the second factor), and the code, once accepted, cannot be replayed at the login.
    """
    _refuse_if_enrolled(officer)
    pair = lockout.attempt(settings, "officer", officer.username, client)
    lockout.refuse_if_locked(session, pair, now)
    secret = officer.totp_secret
    if not accept_totp(session, settings, officer, code, now):
        message = "The code does not match the secret; check the authenticator app's clock and try the next code."
        raise ValidationFailed(message, code="totp_code_invalid",
                               details={"fields": [{"path": "code", "code": "incorrect", "message": message}]},
                               keep=[lockout.count_failure(pair, settings, now)])
    lockout.clear_failures(session, pair)
    # The secret checked must still be the pending one: an admin's reset in between wins.
    enrolled = session.execute(
        sa.update(Officer).where(Officer.id == officer.id, Officer.totp_secret == secret,
                                 Officer.totp_enrolled_at.is_(None))
        .values(totp_enrolled_at=now).execution_options(synchronize_session=False)).rowcount
    if enrolled != 1:
        raise Conflict("The TOTP secret changed meanwhile; fetch the enrolment again.", code="totp_secret_changed")
    session.refresh(officer)


def _refuse_if_enrolled(officer: Officer) -> None:
    if not officer.totp_enrolment_required:
        raise Conflict("Your TOTP is already enrolled; an admin can reset it.", code="totp_already_enrolled")
