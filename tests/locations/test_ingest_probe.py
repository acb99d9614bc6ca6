"""What an outside probe sent the client ingest endpoints: each is a 4xx in the one error shape.

Out-of-range timestamps (huge, negative, overflowing, years 1 and 9999 with extreme offsets) and
JSON nested 10,000 deep used to answer 500 with a traceback in the log. Nothing is stored.
"""
from __future__ import annotations

import base64

import pytest

from correction.locations.models import LocationFix
from tests.factories import API
from tests.assertions import count, error_of

OSMAND = f"{API}/ingest/osmand"
OWNTRACKS = f"{API}/ingest/owntracks"
DEEP = ("[" * 10_000 + "]" * 10_000).encode()
DEEP_OBJECT = ('{"a":' * 10_000 + "1" + "}" * 10_000).encode()

BAD_TIMESTAMPS = ["9" * 30, "9" * 25, "-" + "9" * 25, "-99999999999", "253402300800000",
                  "-62135596800", "9" * 5000, "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
                  "9999-12-31 23:59:59", "0001-01-01 00:00:00", "１７６４０３６０００", "²"]


@pytest.fixture
def phone(client, make):
    scene = make.scene()
    issued = client.post(f"{API}/me/ingest-key", headers=scene.phone)
    assert issued.status_code == 201
    return issued.get_json()["ingest_key"]


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"user:{key}".encode()).decode()}


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS)
def test_an_osmand_timestamp_out_of_range_is_a_400_even_unauthenticated(client, timestamp):
    response = client.get(OSMAND, query_string={"id": "no-such-device", "lat": "29.08", "lon": "119.65",
                                                "timestamp": timestamp})
    assert error_of(response, 400)["code"] == "invalid_fix"


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS)
def test_an_osmand_timestamp_out_of_range_stores_nothing_for_a_real_device(app, client, phone, timestamp):
    for response in (client.post(OSMAND, data={"id": phone, "lat": "29.08", "lon": "119.65", "timestamp": timestamp}),
                     client.post(OSMAND, json={"device_id": phone, "location": {
                         "timestamp": timestamp, "coords": {"latitude": 29.08, "longitude": 119.65}}})):
        assert error_of(response, 400)["code"] == "invalid_fix"
    assert count(app, LocationFix) == 0


@pytest.mark.parametrize("tst", [10**20, -10**20, 1e300, 253402300800, -62135596800, "9" * 400])
def test_an_owntracks_tst_out_of_range_is_a_400(app, client, phone, tst):
    response = client.post(OWNTRACKS, headers=basic(phone),
                           json={"_type": "location", "lat": 29.08, "lon": 119.65, "tst": tst})
    assert error_of(response, 400)["code"] == "invalid_fix"
    assert count(app, LocationFix) == 0


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_ten_thousand_deep_is_invalid_json(client, phone, body):
    unauthenticated = client.post(OSMAND, data=body, content_type="application/json")
    assert error_of(unauthenticated, 400)["code"] == "invalid_json"
    owntracks = client.post(OWNTRACKS, data=body, content_type="application/json", headers=basic(phone))
    assert error_of(owntracks, 400)["code"] == "invalid_json"


def test_a_timestamp_in_range_is_still_stored(app, client, phone, clock):
    response = client.get(OSMAND, query_string={"id": phone, "lat": "29.08", "lon": "119.65",
                                                "timestamp": str(int(clock().timestamp()) - 60)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert count(app, LocationFix) == 1
