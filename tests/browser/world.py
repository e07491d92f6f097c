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


__all__ = ["GOOD_Q2", "history_before", "people_and_institution"]
