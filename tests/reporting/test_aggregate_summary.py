"""The aggregate export's summary (kept by PostgreSQL triggers) gives exactly the sums of the versions
themselves, through every transition and for every jurisdiction and choice of statuses."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from reporting import exports, services
from reporting.choices import FilingStatus
from reporting.models import AggregateBucket, AggregateFiling, Filing, FilingVersion, ReportTemplate
from reporting.periods import Period
from tests.factories import InstitutionFactory, UserFactory

from .helpers import GOOD_Q1, GOOD_Q2

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary is kept on PostgreSQL"),
]

Q2 = Period(2025, 2)
STATUS_CHOICES = [
    exports.AGGREGATE_DEFAULT,
    exports.AGGREGATE_STATUSES,
    (FilingStatus.ACCEPTED,),
    (FilingStatus.SUBMITTED,),
    (FilingStatus.RETURNED,),
]


def _submit(filing, checker):
    """Submit, explaining whatever warnings the values raise (the sums, not the rules, are under test)."""
    try:
        services.filing_submit(actor=checker, filing=filing)
    except services.FilingError as exc:
        assert exc.findings, exc.message
        services.filing_submit(
            actor=checker, filing=filing, explanations={f.rule_id: "已核实" for f in exc.findings}
        )
    filing.refresh_from_db()
    return filing


def _file(institution, values, *, maker, checker):
    filing, _v, _f = services.filing_save_draft(
        actor=maker, institution=institution, period=Q2, values=values
    )
    return _submit(filing, checker)


def _kept():
    """The summary as kept: counted filings, and the buckets that count any, with their sums not zero."""
    filings = set(AggregateFiling.objects.values_list("filing_id", "region", "level", "status", "version_id"))
    buckets = {
        (b.year, b.quarter, b.region, b.level, b.status): (b.filings, {k: v for k, v in b.sums.items() if v})
        for b in AggregateBucket.objects.all()
        if b.filings
    }
    assert all(isinstance(v, Decimal) for _n, sums in buckets.values() for v in sums.values())
    return filings, buckets


def _filled(sums, counts):
    """The columns that count filings, with their sums."""
    return {c: (n, sums[c]) for c, n in counts.items() if n}


def assert_exact(viewers):
    """For each viewer and choice of statuses: the aggregate (from the summary where the jurisdiction is
    a province, city or the country) equals the sums of the latest submitted versions, cell for cell;
    and the summary kept through the transitions equals one rebuilt from scratch."""
    for user in viewers:
        region = user.region_id or ""
        for statuses in STATUS_CHOICES:
            fields, columns, _labels, sums, counts = exports.aggregate(user, Q2, region, statuses)
            codes = [f.code for f in fields]
            direct_sums, direct_counts = exports._sums_direct(user, Q2, statuses, codes)
            zero = dict.fromkeys(codes, Decimal(0))
            assert counts == {**dict.fromkeys(exports.TOTALS, 0), **direct_counts}, (user, statuses)
            assert columns == [*exports.TOTALS, *sorted(c for c in direct_counts if c not in exports.TOTALS)]
            for column in columns:
                assert sums[column] == direct_sums.get(column, zero), (user, statuses, column)
            if len(region) == 6 and not region.endswith("00"):
                continue  # a county's jurisdiction is summed from its versions
            prefix = region[:2] if region.endswith("0000") else region[:4]
            summary = exports._sums_summary(Q2, prefix, statuses, codes)
            assert _filled(*summary[:2]) == _filled(direct_sums, direct_counts), (user, statuses)
    kept = _kept()
    exports.aggregate_summary_rebuild()
    assert _kept() == kept


@pytest.fixture
def viewers(users):
    county = UserFactory(username="t_jj_reg", role="regulator", region_id="510104")  # Jinjiang, Chengdu
    return [users["sc_regulator"], users["cd_regulator"], users["my_regulator"], county, users["admin"]]


def test_summary_is_exact_through_every_transition_and_jurisdiction(
    users, viewers, chengdu_institution, mianyang_institution
):
    admin = users["admin"]
    chengdu = _file(
        chengdu_institution,
        {**GOOD_Q2, "fin_balance_opening": "200000", "bank_credit_line": "98765.43"},
        maker=users["cd_filer"],
        checker=users["cd_approver"],
    )
    assert_exact(viewers)
    mianyang = _file(
        mianyang_institution, GOOD_Q1 | {"bank_credit_line": "0.01"}, maker=users["my_filer"], checker=admin
    )
    city_level = InstitutionFactory(region_id="510100", level="city", name="成都市级测试融资担保有限公司")
    _file(city_level, {**GOOD_Q2, "bank_credit_line": "12345678.99"}, maker=admin, checker=admin)
    # written directly, as a bulk load or the admin would: the triggers count it too
    province_level = InstitutionFactory(region_id="510000", level="province", name="四川省再担保测试公司")
    direct = Filing.objects.create(
        institution=province_level,
        year=2025,
        quarter=2,
        template=ReportTemplate.objects.get(version=1),
        status=FilingStatus.ACCEPTED,
        first_submitted_at=timezone.now(),
    )
    direct.current_version = FilingVersion.objects.create(
        filing=direct, number=1, values=GOOD_Q1, submitted_at=timezone.now()
    )
    direct.save()
    assert_exact(viewers)
    assert AggregateFiling.objects.count() == 4

    services.filing_accept(actor=users["cd_regulator"], filing=chengdu)
    services.filing_return(actor=users["sc_regulator"], filing=mianyang, comments={"_": "请核实"})
    assert_exact(viewers)

    # an accepted report being amended still counts as accepted, with its accepted values
    services.filing_amend(actor=users["cd_filer"], filing=chengdu, reason="审计调整")
    services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Q2,
        values={**GOOD_Q2, "fin_balance_opening": "200000", "bank_credit_line": "98765.44"},
    )
    assert_exact(viewers)
    accepted = exports.aggregate(users["sc_regulator"], Q2, "510000", (FilingStatus.ACCEPTED,))[3]
    assert accepted["510100"]["bank_credit_line"] == Decimal("98765.43")
    _submit(chengdu, users["cd_approver"])
    submitted = exports.aggregate(users["sc_regulator"], Q2, "510000", (FilingStatus.SUBMITTED,))[3]
    assert submitted["510100"]["bank_credit_line"] == Decimal("12345678.99") + Decimal("98765.44")
    assert_exact(viewers)

    # the returned report resubmitted with other values
    services.filing_save_draft(
        actor=users["my_filer"],
        institution=mianyang_institution,
        period=Q2,
        values=GOOD_Q1 | {"bank_credit_line": "0.02"},
    )
    _submit(mianyang, admin)
    assert_exact(viewers)

    # an institution moving to another city and level takes its filings' sums along
    mianyang_institution.region_id = "510104"
    mianyang_institution.level = "city"
    mianyang_institution.save()
    assert_exact(viewers)
    everything = exports.aggregate(admin, Q2, "", exports.AGGREGATE_STATUSES)
    assert everything[4] == {"合计": 4, "省级机构": 1, "市级机构": 2, "县级机构": 1, "510000": 1, "510100": 3}

    # a submitted version's values corrected in place, then a filing deleted outright
    latest = FilingVersion.objects.filter(filing=chengdu, submitted_at__isnull=False).latest("number")
    FilingVersion.objects.filter(pk=latest.pk).update(values={**latest.values, "bank_credit_line": "7.77"})
    assert_exact(viewers)
    Filing.objects.filter(pk=direct.pk).update(current_version=None)
    direct.delete()
    assert_exact(viewers)
    assert AggregateFiling.objects.count() == 3
    assert exports.aggregate(admin, Q2, "", exports.AGGREGATE_STATUSES)[3]["合计"]["bank_credit_line"] == (
        Decimal("7.77") + Decimal("0.02") + Decimal("12345678.99")
    )


def test_rebuild_restores_a_damaged_summary(users, chengdu_institution):
    _file(chengdu_institution, GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"])
    kept = _kept()
    AggregateBucket.objects.update(sums={"total_assets": 1})
    AggregateFiling.objects.update(status=FilingStatus.RETURNED)
    assert _kept() != kept
    call_command("rebuild_aggregate_summary", stdout=io.StringIO())
    assert _kept() == kept


def test_the_export_reads_headings_and_summary_in_two_statements(
    users, chengdu_institution, mianyang_institution, django_assert_num_queries
):
    """Field headings, then the buckets with their sums in field order and their cities' names."""
    _file(chengdu_institution, GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"])
    _file(mianyang_institution, GOOD_Q2, maker=users["my_filer"], checker=users["admin"])
    with django_assert_num_queries(2):
        fields, columns, labels, sums, counts = exports.aggregate(users["sc_regulator"], Q2, "510000")
    assert columns == [*exports.TOTALS, "510100", "510700"]
    assert [labels[c] for c in columns[4:]] == ["成都市", "绵阳市"]
    assert counts == {"合计": 2, "省级机构": 0, "市级机构": 0, "县级机构": 2, "510100": 1, "510700": 1}
    total_assets = Decimal(GOOD_Q2["total_assets"])
    assert sums["合计"]["total_assets"] == 2 * total_assets
    assert sums["510100"]["total_assets"] == sums["510700"]["total_assets"] == total_assets
    assert sums["省级机构"]["total_assets"] == 0
    assert len(fields) == len(sums["合计"])
