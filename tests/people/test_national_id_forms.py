"""National ID numbers typed in full-width (Chinese input methods: ３３０７…Ｘ) are the same number.

They are normalised (NFKC, then upper-case X) before they are validated, hashed and stored, so a
full-width number neither enrols the person twice nor hides them from a lookup by the ASCII form.
"""
from __future__ import annotations


from hypothesis import given, settings
from hypothesis import strategies as st

from correction.people.models import Supervisee
from correction.security import hash_national_id, normalise_national_id, redact
from tests.factories import API, enrolment
from tests.assertions import count, error_of, rows

SUPERVISEES = f"{API}/supervisees"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
NUMBER_WITH_X = "11010519491231002X"  # the GB 11643 standard's own example


def full_width(national_id: str) -> str:
    return national_id.translate(FULL_WIDTH)


def test_a_full_width_number_and_its_ascii_form_are_one_person(app, client, make, auth):
    office = make.office()
    headers = auth.officer(make.officer(office))
    first = client.post(SUPERVISEES, json=enrolment(national_id=full_width(NUMBER_WITH_X), phone="13712345678"),
                        headers=headers)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["national_id_masked"].endswith("002X")
    again = client.post(SUPERVISEES, json=enrolment(national_id=NUMBER_WITH_X, phone="13712345679"), headers=headers)
    assert error_of(again, 409)["code"] == "duplicate_national_id"
    lower_x = client.post(SUPERVISEES, headers=headers, json=enrolment(
        national_id=full_width(NUMBER_WITH_X).replace("Ｘ", "ｘ"), phone="13712345670"))
    assert error_of(lower_x, 409)["code"] == "duplicate_national_id"
    assert count(app, Supervisee) == 1
    (person,) = rows(app, Supervisee)
    assert person.national_id_last4 == "002X"
    with app.app_context():
        assert person.national_id_hash == hash_national_id(app.config["SETTINGS"].SECRET_KEY, NUMBER_WITH_X)


def test_a_lookup_finds_the_person_whichever_form_either_side_used(client, make, auth):
    office = make.office()
    headers = auth.officer(make.officer(office))
    enrolled = client.post(SUPERVISEES, json=enrolment(national_id=NUMBER_WITH_X, phone="13712345678"), headers=headers)
    assert enrolled.status_code == 201, enrolled.get_json()
    for form in (NUMBER_WITH_X, full_width(NUMBER_WITH_X), full_width(NUMBER_WITH_X[:9]) + NUMBER_WITH_X[9:]):
        found = client.post(f"{SUPERVISEES}/lookup", json={"national_id": form}, headers=headers)
        assert found.status_code == 200, (form, found.get_json())
        assert found.get_json()["id"] == enrolled.get_json()["id"]


def test_digits_of_other_scripts_are_not_an_id_number(client, make, auth):
    headers = auth.officer(make.officer(make.office()))
    arabic_indic = NUMBER_WITH_X[:17].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + "X"
    response = client.post(f"{SUPERVISEES}/lookup", json={"national_id": arabic_indic}, headers=headers)
    assert error_of(response, 422)["code"] == "validation_error"


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.booleans(), min_size=18, max_size=18))
def test_any_mix_of_full_width_and_ascii_normalises_to_the_ascii_number(mask):
    mixed = "".join(full_width(c) if wide else c for c, wide in zip(NUMBER_WITH_X, mask))
    assert normalise_national_id(mixed) == NUMBER_WITH_X
    assert hash_national_id("k", mixed) == hash_national_id("k", NUMBER_WITH_X)


def test_a_full_width_number_is_masked_in_the_logs_too():
    assert redact(f"looked up {full_width(NUMBER_WITH_X)}") == "looked up " + "*" * 14 + "００２Ｘ"
    assert redact(f"id {NUMBER_WITH_X}") == "id " + "*" * 14 + "002X"
