"""Steps the delivery tests share: a phone that registered its push id, spot checks, the dispatcher job."""
from __future__ import annotations

from correction.database import db
from correction.delivery.models import Delivery
from correction.notifications.service import notify
from jobs import runner
from jobs.schedule import schedule
from tests.assertions import rows
from tests.factories import API

TOKEN = "1a0018970af9e3b3e24"
PUSH_TOKEN = f"{API}/me/push-token"


def register_phone(client, jpush, phone_headers, token: str = TOKEN) -> None:
    """The app on the phone got ``token`` from the JPush SDK and posts it after login."""
    response = client.post(PUSH_TOKEN, json={"registration_id": token}, headers=phone_headers)
    assert response.status_code == 204, response.get_data(as_text=True)
    jpush.registered.add(token)


def ask_spot_check(client, scene, minutes: int | None = None) -> dict:
    body = {"supervisee_id": scene.person_id} | ({"minutes": minutes} if minutes else {})
    response = client.post(f"{API}/spot-checks", json=body, headers=scene.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def run_dispatcher(app):
    """Run the scheduled dispatcher job once, as the scheduler does."""
    [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == "dispatch_notifications"]
    run = runner.run_job(app, spec)
    assert run is not None and run.ok, run and run.error
    return run


def queue(app, supervisee_id: int, n: int, kind: str = "leave_decision") -> None:
    with app.app_context():
        for i in range(n):
            notify(db.session, supervisee_id=supervisee_id, kind=kind, title=f"通知 {i}", body=f"notice {i}",
                   now=app.extensions["correction.clock"](), dedupe_key=f"test:{supervisee_id}:{kind}:{i}")
        db.session.commit()


def deliveries(app, channel: str | None = None) -> list[Delivery]:
    return rows(app, Delivery, *([Delivery.channel == channel] if channel else []))
