"""Every officer read of supervisees' records is in the audit trail, lists included."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.database import db
from tests.factories import API


@pytest.mark.parametrize("path, action, details, target", [
    ("/alerts?status=open&type=zone_exit", "alert.list", {"status": "open", "type": "zone_exit"}, False),
    ("/leave-requests?status=pending", "leave.list", {"status": "pending"}, False),
    ("/mall/orders?status=pending", "mall.order_list", {"status": "pending"}, False),
    ("/supervisees/{person}/zones", "zone.list", {}, True),
    ("/supervisees?level=strict", "supervisee.list", {"level": "strict"}, False),
])
def test_an_officer_list_read_is_audited_with_its_filters(client, app, make, auth, path, action, details, target):
    office = make.office()
    officer = make.officer(office)
    person = make.supervisee(office, officer.officer).supervisee
    headers = auth.officer(officer)
    response = client.get(API + path.format(person=person.id), headers=headers)
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        [entry] = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == action)).scalars().all()
        assert (entry.actor_type, entry.actor_id, entry.bureau_id, entry.outcome) == (
            "officer", officer.officer.id, office.bureau_id, "ok")
        assert entry.details == details
        assert (entry.target_type, entry.target_id) == (("supervisee", person.id) if target else (None, None))
