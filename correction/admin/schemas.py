"""Request and response bodies of the administration endpoints."""
from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints

from ..people.schemas import NewPassword, Role
from ..schemas import Id, Input, Output, PageQuery, Text, UtcDateTime

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")]
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{2,59}$")]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
def _webhook(value: str) -> str:
    """An https URL with a host (plain http only to this machine, for a robot's stand-in)."""
    parts = urlsplit(value)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    if not parts.hostname or not (parts.scheme == "https" or loopback) or parts.username or parts.fragment:
        raise ValueError("must be an https URL")
    return value


Radius = Annotated[float, Field(gt=0, le=10_000, description="Metres around the station a check-in may be from.")]


class OfficeOut(Output):
    id: int
    bureau_id: int
    code: str
    name: str
    closed: bool
    closed_at: UtcDateTime | None


class OfficeCreate(Input):
    code: Code
    name: Text(100)


class OfficeRename(Input):
    name: Text(100)


class OfficeQuery(PageQuery):
    closed: bool | None = Field(default=None, description="Only closed (true) or open (false) offices.")


class StationOut(Output):
    """A station as admins see it; its signing secret is never shown."""

    id: int
    office_id: int
    name: str
    lat: float
    lon: float
    radius_m: float
    active: bool
    secret_rotated_at: UtcDateTime | None


class StationCreate(Input):
    office_id: Id
    name: Text(100)
    lat: Latitude
    lon: Longitude
    radius_m: Radius


class StationUpdate(Input):
    """Move, rename or resize a station; absent fields stay as they are."""

    name: Text(100) = None
    lat: Latitude = None
    lon: Longitude = None
    radius_m: Radius = None


class StationQuery(PageQuery):
    office_id: Id | None = None
    active: bool | None = None


class AdminOfficerOut(Output):
    id: int
    username: str
    name: str
    role: Role
    bureau_id: int
    office_id: int | None
    active: bool
    password_change_required: bool
    totp_enrolment_required: bool
    created_at: UtcDateTime


class OfficerCreate(Input):
    """A new officer: they log in with ``initial_password``, change it, and enrol their TOTP."""

    username: Username
    name: Text(100)
    role: Role
    office_id: Id | None = Field(default=None, description="Required for role officer.")
    initial_password: NewPassword


class OfficerUpdate(Input):
    """Change an officer's name, role or office; absent fields stay as they are."""

    name: Text(100) = None
    role: Role = None
    office_id: Id | None = None


class PasswordReset(Input):
    temporary_password: NewPassword = Field(description="Must be changed at the next login.")


class OfficerQuery(PageQuery):
    role: Role | None = None
    office_id: Id | None = None
    active: bool | None = None


class RobotIn(Input):
    """An officers' group robot: DingTalk (钉钉) or WeCom (企业微信), its webhook and signing secret."""

    provider: Literal["dingtalk", "wecom"]
    webhook_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500),
                           AfterValidator(_webhook)] = Field(
        description="The robot's webhook with its token (https; never shown back).")
    secret: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                             pattern=r"^[A-Za-z0-9_\-]*$")] | None = Field(
        default=None, description="DingTalk's signing secret (SEC...); never shown back. Left out: kept; "
                                  "null or empty: removed.")


class RobotOut(Output):
    office_id: int | None
    provider: str
    webhook_host: str | None
    secret_set: bool
    updated_at: UtcDateTime
