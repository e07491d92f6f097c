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


# --- a company that stopped operating is still counted for the quarters it was licensed and operating --


def _licensed(institution, number, issued_on, **licence):
    Licence.objects.create(
        number=number,
        institution=institution,
        issuing_authority="四川省金融工作局",
        issued_on=issued_on,
        **licence,
    )
    return institution


def test_a_company_deregistered_mid_2025_was_obliged_until_then():
    from institutions.services import institution_upsert

    gone = _licensed(InstitutionFactory(), "川A110340", dt.date(2023, 3, 1))
    gone, _created = institution_upsert(
        actor=None,
        credit_code=gone.credit_code,
        status="deregistered",
        status_changed_on=dt.date(2025, 7, 15),
    )
    obliged = {
        str(p): obliged_institutions(p).filter(pk=gone.pk).exists()
        for p in (
            Period(2022, 4),
            Period(2023, 1),
            Period(2024, 4),
            Period(2025, 2),
            Period(2025, 3),
            Period(2025, 4),
        )
    }
    assert obliged == {
        "2022Q4": False,  # not licensed yet
        "2023Q1": True,
        "2024Q4": True,
        "2025Q2": True,  # ended before the deregistration
        "2025Q3": False,
        "2025Q4": False,
    }


def test_a_status_change_without_its_date_takes_effect_today():
    from django.utils import timezone

    from institutions.services import institution_upsert

    institution = InstitutionFactory()
    institution, _ = institution_upsert(actor=None, credit_code=institution.credit_code, status="suspended")
    assert (institution.status, institution.status_changed_on) == ("suspended", timezone.localdate())
    institution, _ = institution_upsert(actor=None, credit_code=institution.credit_code, name="改名后的公司")
    assert institution.status_changed_on == timezone.localdate()  # a change of something else keeps it


def test_a_company_suspended_then_resumed_was_not_due_while_suspended_only():
    """The status history, not only the present status: suspended on 2025-05-10 and operating again from
    2025-08-20, the company owed 2025Q1 and 2025Q3 but not 2025Q2 (it was suspended on 30 June)."""
    from institutions.models import StatusChange
    from institutions.services import institution_upsert

    company = _licensed(InstitutionFactory(), "川A110346", dt.date(2023, 3, 1))
    code = company.credit_code
    institution_upsert(
        actor=None, credit_code=code, status="suspended", status_changed_on=dt.date(2025, 5, 10)
    )
    institution_upsert(
        actor=None, credit_code=code, status="operating", status_changed_on=dt.date(2025, 8, 20)
    )
    due = {
        str(p): obliged_institutions(p).filter(pk=company.pk).exists()
        for p in (Period(2025, 1), Period(2025, 2), Period(2025, 3))
    }
    assert due == {"2025Q1": True, "2025Q2": False, "2025Q3": True}
    # a corrected day of the present status moves its change; it adds none
    institution_upsert(actor=None, credit_code=code, status_changed_on=dt.date(2025, 6, 30))
    history = list(StatusChange.objects.filter(institution=company).values_list("status", "effective_on"))
    assert history == [("suspended", dt.date(2025, 5, 10)), ("operating", dt.date(2025, 6, 30))]
    assert obliged_institutions(Period(2025, 2)).filter(pk=company.pk).exists()  # operating on 30 June
    # a company created already suspended has that as its first change
    late = InstitutionFactory.build()
    created, _ = institution_upsert(
        actor=None,
        credit_code=late.credit_code,
        name="新设即暂停业务的担保公司",
        region_id="510104",
        level="county",
        registered_capital=10000,
        paid_in_capital=10000,
        status="suspended",
        status_changed_on=dt.date(2025, 1, 2),
    )
    assert list(created.status_changes.values_list("status", "effective_on")) == [
        ("suspended", dt.date(2025, 1, 2))
    ]


def test_the_history_migration_starts_each_leaver_with_its_present_status():
    import importlib

    from django.apps import apps

    from institutions.models import StatusChange

    migration = importlib.import_module("institutions.migrations.0006_status_history")
    dated = InstitutionFactory(status="deregistered", status_changed_on=dt.date(2024, 6, 30))
    undated = _licensed(InstitutionFactory(status="suspended"), "川A110347", dt.date(2015, 1, 1))
    InstitutionFactory()  # operating: nothing to record
    migration.record_present_statuses(apps, None)
    assert sorted(StatusChange.objects.values_list("institution_id", "status", "effective_on")) == [
        (dated.pk, "deregistered", dt.date(2024, 6, 30)),
        (undated.pk, "suspended", None),
    ]
    # an unknown day counts as always: never due
    assert not obliged_institutions(Period(2020, 3)).filter(pk=undated.pk).exists()


@pytest.fixture
def province(users, chengdu_institution, mianyang_institution):
    """Chengdu: one company operating and filing, one deregistered 2025-07-15, one deregistered 2024-06-30;
    Mianyang: one whose licence was revoked on 2025-05-10 (now exiting). None filed on time."""
    from institutions.services import institution_upsert

    from .helpers import file_and_submit

    _licensed(chengdu_institution, "川A110341", dt.date(2023, 2, 1))
    for name, number, left in (
        ("成都中途注销担保公司", "川A110342", dt.date(2025, 7, 15)),
        ("成都早已注销担保公司", "川A110343", dt.date(2024, 6, 30)),
    ):
        company = _licensed(InstitutionFactory(name=name), number, dt.date(2023, 3, 1))
        institution_upsert(
            actor=None, credit_code=company.credit_code, status="deregistered", status_changed_on=left
        )
    _licensed(
        mianyang_institution,
        "川A110344",
        dt.date(2023, 5, 1),
        status="revoked",
        revoked_on=dt.date(2025, 5, 10),
    )
    institution_upsert(
        actor=None,
        credit_code=mianyang_institution.credit_code,
        status="exiting",
        status_changed_on=dt.date(2025, 5, 10),
    )
    file_and_submit(
        chengdu_institution, "2024Q4", {}, maker=users["cd_filer"], checker=users["cd_approver"], nil=True
    )
    return users["sc_regulator"]


def test_the_province_board_counts_each_quarter_by_the_status_then(client, province):
    client.force_login(province)

    def board(query):
        response = client.get(f"/reporting/completeness/?{query}")
        c = response.context
        return (
            {k: c["counts"][k] for k in ("obliged", "filed", "nil", "late", "missing", "overdue")},
            {
                row["code"]: {k: v for k, v in row.items() if k not in ("code", "name")}
                for row in c["by_city"]
            },
            [row["institution"].name for row in c["page"].object_list],
        )

    counts, by_city, names = board("period=2024Q4")
    assert counts == {"obliged": 3, "filed": 1, "nil": 1, "late": 1, "missing": 2, "overdue": 2}
    assert by_city == {
        "510100": {"obliged": 2, "filed": 1, "missing": 1, "overdue": 1, "late": 1},
        "510700": {"obliged": 1, "filed": 0, "missing": 1, "overdue": 1, "late": 0},
    }
    assert names == ["成都中途注销担保公司", "成都测试融资担保有限公司", "绵阳测试融资担保有限公司"]
    assert board("period=2024Q4&state=missing")[2] == ["成都中途注销担保公司", "绵阳测试融资担保有限公司"]
    assert board("period=2024Q4&state=overdue&city=510100")[2] == ["成都中途注销担保公司"]
    assert board("period=2024Q4&city=510700")[2] == ["绵阳测试融资担保有限公司"]

    counts, by_city, names = board("period=2025Q2")  # Mianyang's licence was revoked within the quarter
    assert (counts["obliged"], counts["missing"], names) == (
        2,
        2,
        ["成都中途注销担保公司", "成都测试融资担保有限公司"],
    )
    assert by_city == {}  # one city left: no breakdown
    counts, _by_city, names = board("period=2025Q4")
    assert (counts["obliged"], counts["missing"], names) == (1, 1, ["成都测试融资担保有限公司"])
    counts, _by_city, names = board("period=2024Q1")  # the early leaver still operated then
    assert (counts["obliged"], names) == (
        4,
        [
            "成都中途注销担保公司",
            "成都早已注销担保公司",
            "成都测试融资担保有限公司",
            "绵阳测试融资担保有限公司",
        ],
    )


def test_the_migration_dates_the_existing_leavers_from_the_trail_or_their_licences():
    import importlib

    from django.apps import apps

    from core import audit
    from institutions.models import Institution

    fill = importlib.import_module("institutions.migrations.0005_institution_status_changed_on")
    audited = InstitutionFactory()
    before = audit.snapshot(audited)
    audited.status = "deregistered"
    audited.save()
    audit.record(actor=None, action=audit.Action.UPDATE, instance=audited, before=before)
    revoked = _licensed(
        InstitutionFactory(status="exiting"), "川A110345", dt.date(2019, 1, 1), revoked_on=dt.date(2024, 8, 2)
    )
    unknown = InstitutionFactory(status="suspended")
    operating = InstitutionFactory()
    fill.fill_status_changed_on(apps, None)
    dates = dict(
        Institution.objects.filter(pk__in=[audited.pk, revoked.pk, unknown.pk, operating.pk]).values_list(
            "pk", "status_changed_on"
        )
    )
    from django.utils import timezone

    assert dates == {
        audited.pk: timezone.localdate(),  # the day the trail recorded the change
        revoked.pk: dt.date(2024, 8, 2),
        unknown.pk: None,
        operating.pk: None,
    }
