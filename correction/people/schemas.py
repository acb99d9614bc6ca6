"""Request and response bodies for people."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from ..schemas import Input, Output, PageQuery, Password, Text, UtcDateTime
from ..security import normalise_national_id

Role = Literal["officer", "supervisor", "admin"]
SentenceType = Literal["probation", "parole", "control", "medical_parole"]
Level = Literal["strict", "normal", "lenient"]
Status = Literal["active", "ended"]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{6,20}$", max_length=20)]  # the column holds 20
NationalId = Annotated[str, StringConstraints(min_length=18, max_length=18),
                       AfterValidator(normalise_national_id)]
NewPassword = Annotated[Password, StringConstraints(min_length=8, max_length=256)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]  # the id columns are 32-bit on PostgreSQL


class OfficerOut(Output):
    id: int
    username: str
    name: str
    role: Role
    bureau_id: int
    office_id: int | None
    password_change_required: bool
    totp_enrolment_required: bool


class SuperviseeOut(Output):
    """A supervisee as officers see them. The national ID number is masked."""

    id: int
    office_id: int
    officer_id: int
    name: str
    phone: str
    national_id_masked: str
    sentence_type: SentenceType
    supervision_start: date
    supervision_end: date
    level: Level
    status: Status
    device_bound: bool
    password_change_required: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


class SuperviseeSelf(Output):
    """A supervisee as they see themselves."""

    id: int
    office_id: int
    name: str
    phone: str
    national_id_masked: str
    sentence_type: SentenceType
    supervision_start: date
    supervision_end: date
    level: Level
    status: Status
    password_change_required: bool


class _Dates:
    @model_validator(mode="after")
    def _end_not_before_start(self):
        start, end = getattr(self, "supervision_start", None), getattr(self, "supervision_end", None)
        if start is not None and end is not None and end < start:
            raise ValueError("supervision_end must not be before supervision_start")
        return self


class SuperviseeCreate(_Dates, Input):
    """Enrol a supervisee. Officers enrol into their own office; supervisors name one."""

    name: Text(100)
    national_id: NationalId
    phone: Phone
    initial_password: NewPassword
    sentence_type: SentenceType
    supervision_start: date
    supervision_end: date
    level: Level
    officer_id: Id | None = Field(default=None, description="Responsible officer; defaults to you.")
    office_id: Id | None = Field(default=None, description="Supervisors only: the office to enrol into.")


class SuperviseeUpdate(_Dates, Input):
    """Change what officers may change; absent fields stay as they are."""

    name: Text(100) = None
    phone: Phone = None
    officer_id: Id = None
    level: Level = None
    supervision_end: date = None
    status: Status = None


class SuperviseeQuery(PageQuery):
    level: Level | None = None
    status: Status | None = None
    sentence_type: SentenceType | None = None
    officer_id: Id | None = None
    office_id: Id | None = None
    q: Text(100) | None = Field(default=None, description="Part of the name.")


class NationalIdLookup(Input):
    national_id: NationalId
