"""The people and data of the browser journeys (committed: the live server reads them)."""

import datetime as dt

from institutions.models import Licence
from reporting import services
from reporting.periods import Period
from tests.factories import InstitutionFactory, UserFactory
from tests.reporting.helpers import GOOD_Q2, PRIOR_Q4, file_and_submit
from tests.reporting.sample import GOOD_Q1

from .conftest import PASSWORD


def people_and_institution():
    inst = InstitutionFactory(region_id="510104", level="county", name="成都浏览器测试融资担保有限公司")
    Licence.objects.create(
        number="川A980001",
        institution=inst,
        issuing_authority="四川省地方金融监督管理局",
        issued_on=dt.date(2015, 1, 1),
    )
    users = {
        "filer": UserFactory(username="b_filer", role="filer", institution=inst, password=PASSWORD),
        "approver": UserFactory(username="b_approver", role="approver", institution=inst, password=PASSWORD),
        "cd_regulator": UserFactory(
            username="b_cd_reg", role="regulator", region_id="510100", password=PASSWORD
        ),
        "sc_regulator": UserFactory(
            username="b_sc_reg", role="regulator", region_id="510000", password=PASSWORD
        ),
        "sc_finance": UserFactory(username="b_sc_fin", role="finance", region_id="510000", password=PASSWORD),
    }
    return inst, users


def history_before(inst, users, period: Period):
    """The prior year's Q4 and the quarter before `period`, submitted: `period` then compares with both,
    and GOOD_Q2 passes every rule as the quarter after GOOD_Q1."""
    maker, checker = users["filer"], users["approver"]
    filings = [file_and_submit(inst, period.prior_year_end(), PRIOR_Q4, maker=maker, checker=checker)]
    if period.previous() != period.prior_year_end():
        filings.append(file_and_submit(inst, period.previous(), GOOD_Q1, maker=maker, checker=checker))
    for filing in filings:
        services.filing_accept(actor=users["cd_regulator"], filing=filing)


def subsidy_company_and_officers():
    """A Banan (Chongqing) company with three guarantees of 2025 on its loan-level records, its filer and
    approver, and two finance officers of the district: the first review (初审) and the decision (复核)."""
    from tests.subsidies import helpers

    inst = InstitutionFactory(region_id="500113", level="county", name="巴南浏览器测试融资担保有限公司")
    helpers.guarantee(inst, amount=300, fee_rate="0.018")  # 365 days × 0.5 point: 1.5
    helpers.guarantee(inst, amount=300, fee_rate="0.021")  # fee above 2 %: not eligible
    # the rural line, 180 days × 1 point: 0.246575…
    helpers.guarantee(
        inst,
        amount=50,
        fee_rate="0.010",
        line="rural_startup",
        start=dt.date(2025, 3, 1),
        end=dt.date(2025, 8, 28),
    )
    users = {
        "filer": UserFactory(username="b_bn_filer", role="filer", institution=inst, password=PASSWORD),
        "approver": UserFactory(
            username="b_bn_approver", role="approver", institution=inst, password=PASSWORD
        ),
        "reviewer": UserFactory(username="b_bn_fin1", role="finance", region_id="500113", password=PASSWORD),
        "decider": UserFactory(username="b_bn_fin2", role="finance", region_id="500113", password=PASSWORD),
    }
    return inst, users


__all__ = ["GOOD_Q2", "history_before", "people_and_institution", "subsidy_company_and_officers"]
