import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from institutions import services
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


def test_xlsx_export_follows_filters_and_scope(users, chengdu_institution, mianyang_institution, client_for):
    services.licence_issue(
        actor=None, institution=chengdu_institution, number="川A400001", issued_on=dt.date(2020, 1, 1)
    )
    InstitutionFactory(name="成都无证融资担保有限公司", region_id="510104", ownership="private")
    client = client_for(users["cd_regulator"])
    response = client.get(reverse("institutions:export"), {"licence": "valid"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("机构名称", "统一社会信用代码", "机构类型")
    assert [(r[0], r[11], r[12]) for r in rows[1:]] == [("成都测试融资担保有限公司", "川A400001", "有效")]
    everything = load_workbook(io.BytesIO(client.get(reverse("institutions:export")).content)).active
    assert sorted(r[0] for r in list(everything.iter_rows(values_only=True))[1:]) == [
        "成都无证融资担保有限公司",
        "成都测试融资担保有限公司",
    ]


def test_public_govlist_downloads(users, chengdu_institution, client_for):
    batch = services.govlist_batch_create(
        actor=users["sc_finance"], region_code="510000", title="第一批", published_on=dt.date(2024, 3, 1)
    )
    services.govlist_entry_set(
        actor=users["sc_finance"],
        batch=batch,
        institution=chengdu_institution,
        action="include",
        capital_replenishment=True,
        national_fund_equity=True,
    )
    public = client_for(None)
    assert (
        public.get(reverse("institutions:public_govlist"), {"format": "json"}).json()["count"] == 0
    )  # not confirmed yet
    services.govlist_batch_propose(actor=users["sc_finance"], batch=batch)
    services.govlist_batch_confirm(actor=users["sc_regulator"], batch=batch)
    data = public.get(reverse("institutions:public_govlist"), {"format": "json"}).json()
    assert data["results"] == [
        {
            "institution": "成都测试融资担保有限公司",
            "credit_code": chengdu_institution.credit_code,
            "region": "锦江区",
            "batch": "第一批",
            "published_on": "2024-03-01",
            "capital_replenishment": True,
            "risk_compensation": False,
            "national_fund_equity": True,
            "national_fund_reguarantee": False,
        }
    ]
    csv_text = public.get(reverse("institutions:public_govlist"), {"format": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert csv_text.splitlines()[0].startswith("机构名称,统一社会信用代码,注册地,纳入批次,发布日期")
    notices = (
        public.get(reverse("institutions:public_notices"), {"format": "csv"})
        .content.decode("utf-8-sig")
        .splitlines()
    )
    assert len(notices) == 2 and "第一批" in notices[1] and "政府性融资担保机构名单变动" in notices[1]
