"""Request and response bodies of the auth endpoints."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ..people.schemas import OfficerOut, SuperviseeSelf
from ..schemas import Input, Output, Password, Text, UtcDateTime

Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{6,20}$")]
TotpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class OfficerLogin(Input):
    username: Text(60)
    password: Password
    # Required once the officer's TOTP is enrolled; until then the password alone opens a session
    # that may only enrol it (the login answers officer.totp_enrolment_required).
    totp: TotpCode | None = None


class SuperviseeLogin(Input):
    phone: Phone
    password: Password
    device_id: Text(128)


class OfficerLoginOut(Output):
    token: str
    expires_at: UtcDateTime
    officer: OfficerOut


class SuperviseeLoginOut(Output):
    token: str
    expires_at: UtcDateTime
    supervisee: SuperviseeSelf


class MeOut(Output):
    kind: Literal["officer", "supervisee"]
    officer: OfficerOut | None = None
    supervisee: SuperviseeSelf | None = None


class PasswordChange(Input):
    current_password: Password
    new_password: Password  # the rule (length, common passwords, identifiers) is checked by the service


class LoginLockOut(Output):
    """One client's failed logins on an account, and its lock."""

    client: str
    failures: int = Field(description="Consecutive failures since the last lock or success.")
    locked: bool
    locked_until: UtcDateTime | None
    last_failure_at: UtcDateTime


class LoginLocksOut(Output):
    items: list[LoginLockOut]


class LocksLiftedOut(Output):
    lifted: int = Field(description="Clients whose lock or failures on the account were cleared.")


class TotpEnrolmentOut(Output):
    """The pending TOTP secret, shown only until it is enrolled."""

    provisioning_uri: str = Field(description="otpauth:// URI for an authenticator app (the QR code holds it).")
    secret: str = Field(description="The same secret in base32, for typing in by hand.")
    issuer: str
    account: str


class TotpEnrolment(Input):
    code: TotpCode = Field(description="A current code from the authenticator app.")


class InitialPasswordOut(Output):
    """A password an officer issued: shown this once, to be handed to the supervisee."""

    supervisee_id: int
    initial_password: str = Field(description="Shown only in this answer; the first login must change it.")
    password_change_required: bool
    sessions_ended: int = Field(description="The supervisee's logins that ended with the old password.")
