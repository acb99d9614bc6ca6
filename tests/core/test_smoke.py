from tests.factories import API


def test_officer_sees_own_office_supervisee(client, make, auth):
    office = make.office()
    officer = make.officer(office)
    person = make.supervisee(office, officer.officer)
    headers = auth.officer(officer)
    response = client.get(f"{API}/supervisees/{person.supervisee.id}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["national_id_masked"].endswith(person.supervisee.national_id_last4)
