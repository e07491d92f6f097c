import datetime as dt

import pytest

from institutions.models import Licence
from reporting.periods import Period
from reporting.selectors import obliged_institutions
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db

Q3_2020 = Period(2020, 3)  # ends 2020-09-30


@pytest.mark.parametrize(
    ("licence", "obliged"),
    [
        ({"issued_on": dt.date(2015, 1, 1)}, True),
        ({"issued_on": dt.date(2020, 9, 30)}, True),  # issued on the period end
        ({"issued_on": dt.date(2020, 10, 1)}, False),  # issued after it
        ({"issued_on": None}, True),  # legacy licence, date unknown
        ({"status": "revoked", "revoked_on": dt.date(2020, 9, 29)}, False),  # the Sichuan revocations
        ({"status": "revoked", "revoked_on": dt.date(2020, 10, 8)}, True),  # still licensed at the end
        ({"status": "cancelled", "cancelled_on": dt.date(2020, 9, 30)}, False),
        ({"status": "cancelled"}, False),  # cancelled, date not published
        (None, False),  # never licensed
    ],
)
def test_only_institutions_licensed_at_the_period_end_must_file(licence, obliged):
    institution = InstitutionFactory()
    if licence is not None:
        Licence.objects.create(
            number="川A110331",
            institution=institution,
            issuing_authority="四川省金融工作局",
            **({"issued_on": dt.date(2015, 1, 1)} | licence),
        )
    assert obliged_institutions(Q3_2020).filter(pk=institution.pk).exists() is obliged


@pytest.mark.parametrize(
    ("established_on", "obliged"),
    [
        (dt.date(2020, 9, 30), True),  # founded on the period end: a licence may have been issued that day
        (dt.date(2020, 10, 1), False),  # founded after it: no licence can have been in force
        (None, True),  # no date at all: the licence on the register is presumed in force
    ],
)
def test_a_licence_without_its_issue_date_counts_from_the_founding_date(established_on, obliged):
    institution = InstitutionFactory(established_on=established_on)
    Licence.objects.create(
        number="川A110333", institution=institution, issuing_authority="四川省金融工作局", issued_on=None
    )
    assert obliged_institutions(Q3_2020).filter(pk=institution.pk).exists() is obliged


def test_the_issue_date_governs_over_the_founding_date():
    institution = InstitutionFactory(established_on=dt.date(2010, 3, 1))
    Licence.objects.create(
        number="川A110334",
        institution=institution,
        issuing_authority="四川省金融工作局",
        issued_on=dt.date(2020, 10, 9),
    )
    assert [
        obliged_institutions(p).filter(pk=institution.pk).exists() for p in (Q3_2020, Period(2020, 4))
    ] == [
        False,
        True,
    ]


def test_no_quarter_is_due_before_the_quarterly_report_existed(client):
    from tests.factories import UserFactory

    institution = InstitutionFactory(region_id="510104", level="county", established_on=dt.date(2010, 3, 1))
    Licence.objects.create(
        number="川A110335",
        institution=institution,
        issuing_authority="四川省金融工作局",
        issued_on=dt.date(2015, 1, 1),
    )
    # the first edition of the report applies from 2019-01-01 (reference data)
    assert [
        obliged_institutions(p).filter(pk=institution.pk).exists() for p in (Period(2018, 4), Period(2019, 1))
    ] == [
        False,
        True,
    ]
    client.force_login(UserFactory(username="t_obl_reg", role="regulator", region_id="510100"))
    response = client.get("/reporting/completeness/?period=2018Q4")  # no deadline then either: no error
    assert (
        response.status_code,
        response.context["counts"]["obliged"],
        response.context["page"].object_list,
    ) == (
        200,
        0,
        [],
    )


def test_a_suspended_institution_need_not_file():
    institution = InstitutionFactory(status="suspended")
    Licence.objects.create(number="川A110332", institution=institution, issuing_authority="四川省金融工作局")
    assert not obliged_institutions(Q3_2020).filter(pk=institution.pk).exists()
