"""颁发许可证 is offered only where it can succeed, and a refusal keeps the input (no bare 403)."""

import datetime as dt

from institutions.models import Licence

ISSUE = "颁发许可证"


def test_offered_only_to_the_province_regulator_for_an_unlicensed_institution(
    users, client_for, chengdu_institution
):
    url = f"/institutions/{chengdu_institution.pk}/"
    assert ISSUE in client_for(users["sc_regulator"]).get(url).content.decode()
    assert ISSUE not in client_for(users["cd_regulator"]).get(url).content.decode()  # a city: not its power
    Licence.objects.create(
        number="川A960001",
        institution=chengdu_institution,
        issuing_authority="四川省地方金融监督管理局",
        issued_on=dt.date(2015, 1, 1),
    )
    assert ISSUE not in client_for(users["sc_regulator"]).get(url).content.decode()  # holds a valid one


def test_refused_issue_keeps_the_input(users, client_for, chengdu_institution):
    c = client_for(users["cd_regulator"])
    response = c.get(f"/institutions/{chengdu_institution.pk}/licences/new/")
    assert response.status_code == 302 and response["Location"] == f"/institutions/{chengdu_institution.pk}/"
    response = c.post(
        f"/institutions/{chengdu_institution.pk}/licences/new/",
        {
            "number": "川A960002",
            "issued_on": "2026-01-05",
            "issuing_authority": "x",
            "business_scope": "借款类担保",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="川A960002"' in body and "借款类担保" in body
