"""Bodies of the status-code endpoints."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from ..schemas import Input, Output


class CodeVerifyIn(Input):
    token: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class CodeVerifyOut(Output):
    supervisee_id: int
    name: str
    national_id_masked: str
    office_id: int
    level: str
    supervision_status: str
    colour: Literal["green", "yellow", "red"]
