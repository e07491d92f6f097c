"""The registry's policy rows: licence settings, rules and the government-backed list's region come from
rows or the user's jurisdiction; a missing row fails loudly instead of a default."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.policy import PolicyMissing
from institutions import services
from institutions.models import GovListBatch, PolicyRule, ProvinceLicenceSetting
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


def test_licence_settings_follow_their_effective_period(chengdu_institution):
    old = ProvinceLicenceSetting.objects.get(region_code="510000")
    old.effective_to = dt.date(2024, 12, 31)
    old.save()
    old.pk = None
    old.effective_from, old.effective_to = dt.date(2025, 1, 1), None
    old.number_pattern = r"^川[0-9]{6}$"
    old.save()
    assert services.licence_number_validate("川A1234", "510104", dt.date(2024, 12, 31)).effective_from == (
        dt.date(2018, 4, 2)
    )
    assert services.licence_number_validate("川123456", "510104", dt.date(2025, 1, 1)) == old
    with pytest.raises(PolicyMissing, match="缺少政策数据：许可证省级设置（地区 510104，日期 2018-04-01）"):
        services.licence_setting_for("510104", dt.date(2018, 4, 1))


def test_a_province_without_licence_settings_is_refused_naming_region_and_day():
    zj = InstitutionFactory(region_id="330106")
    with pytest.raises(PolicyMissing) as exc:
        services.licence_issue(actor=None, institution=zj, number="浙A1001", issued_on=dt.date(2020, 1, 1))
    today = timezone.localdate()
    assert exc.value.messages == [f"缺少政策数据：许可证省级设置（地区 330106，日期 {today}）"]


def test_a_missing_change_filing_deadline_fails_loudly():
    PolicyRule.objects.filter(code="change_filing_days").delete()
    with pytest.raises(
        PolicyMissing, match="缺少政策数据：政策规则参数 change_filing_days（地区 510104，日期 2025-03-01）"
    ):
        services.change_filing_due(dt.date(2025, 3, 1), "510104")


def test_a_missing_agreement_reminder_rule_fails_the_pages_loudly(users, client_for, registry_objects):
    client = client_for(users["cd_regulator"])
    pages = (
        reverse("institutions:agreements"),
        reverse("institutions:detail", args=[registry_objects["cd_agreement"].institution_id])
        + "?tab=agreements",
    )
    assert [client.get(url).status_code for url in pages] == [200, 200]
    PolicyRule.objects.filter(code="agreement_reminder_days").delete()
    for url in pages:
        with pytest.raises(PolicyMissing, match="agreement_reminder_days（地区 510104，"):
            client.get(url)


def test_a_list_batch_takes_the_officers_region_and_an_administrator_names_one(users, client_for):
    url = reverse("institutions:govlist")
    client_for(users["sc_finance"]).post(url, {"title": "四川省名单", "region": "330100"})
    assert (
        GovListBatch.objects.get(title="四川省名单").region_id == "510000"
    )  # its jurisdiction, not the post
    admin = client_for(users["admin"])
    response = admin.post(url, {"title": "无地区名单"})
    assert response.status_code == 200 and response.context["form"].errors["region"]
    assert not GovListBatch.objects.filter(title="无地区名单").exists()
    admin.post(url, {"title": "杭州市名单", "region": "330100"})
    assert GovListBatch.objects.get(title="杭州市名单").region_id == "330100"
