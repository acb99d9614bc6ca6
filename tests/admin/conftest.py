"""An admin of the two bureaus' first one (``make.org``), logged in."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import API, Org, OfficerLogin

ADMIN = f"{API}/admin"


@dataclass
class Administered:
    org: Org
    admin: OfficerLogin
    headers: dict[str, str]


@pytest.fixture
def bureau(make, auth) -> Administered:
    org = make.org()
    admin = make.officer(role="admin", bureau_id=org.bureau.id)
    return Administered(org, admin, auth.officer(admin))
