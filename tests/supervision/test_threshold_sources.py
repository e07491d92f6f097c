"""A threshold's source in the reader's language: the seeded thresholds carry the English citation of
their documents (filled by migration 0013 from the policy data), shown to English readers on the
threshold pages and through the API, Chinese to everyone else; the form edits it."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from supervision.models import Threshold

pytestmark = pytest.mark.django_db

LEV01_ZH = "条例 (国务院令第683号) art. 15"
LEV01_EN = "Regulations on the Administration of Financing Guarantee Companies (State Council Decree No. 683), art. 15"
DQ01_ZH, DQ01_EN = (
    "非现场监管规程 art. 13",
    "Off-site Supervision Rules for Financing Guarantee Companies, art. 13",
)
# a source naming a local document by its file: the Chinese page names the document by its title
CMP01_ZH = "温州市《关于深化政府性融资担保机构体系改革切实支持小微企业和“三农”发展的实施方案》（征求意见稿） (代偿率放宽至5%)"
CMP01_EN = (
    "Wenzhou, Implementation Plan on Deepening the Reform of the Government Financing Guarantee System to Support "
    "Small and Micro Enterprises, Agriculture, Rural Areas and Farmers (draft for comments) (compensation rate "
    "relaxed to 5%)"
)


def test_the_seeded_thresholds_carry_both_languages():
    assert Threshold.objects.filter(source_en="").count() == 0
    lev01 = Threshold.objects.get(code="LEV-01")
    assert (lev01.source, lev01.source_en) == (LEV01_ZH, LEV01_EN)


def test_the_migration_fills_only_sources_left_as_the_policy_data_cites_them():
    fill = importlib.import_module("supervision.migrations.0013_threshold_source_en").fill_english_sources
    Threshold.objects.filter(code__in=["LEV-01", "DQ-01"]).update(source_en="")
    Threshold.objects.filter(code="DQ-01").update(source="非现场监管规程 art. 14")  # edited since
    fill(apps, None)
    assert dict(Threshold.objects.filter(code__in=["LEV-01", "DQ-01"]).values_list("code", "source_en")) == {
        "LEV-01": LEV01_EN,
        "DQ-01": "",
    }


def _page(client, url, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "language, lev01, cmp01", [("en", LEV01_EN, CMP01_EN), ("zh-hans", LEV01_ZH, CMP01_ZH)]
)
def test_the_threshold_pages_show_the_source_in_the_reader_s_language(
    users, client_for, language, lev01, cmp01
):
    client = client_for(users["sc_regulator"])
    listing = _page(client, reverse("supervision:thresholds"), language)
    assert lev01 in listing and cmp01 in listing
    other = LEV01_ZH if language == "en" else LEV01_EN
    assert other not in listing
    detail = _page(
        client,
        reverse("supervision:threshold_detail", args=[Threshold.objects.get(code="LEV-01").pk]),
        language,
    )
    assert lev01 in detail


def test_the_api_gives_the_source_in_the_reader_s_language(users, chengdu_institution):
    client = APIClient()
    client.force_authenticate(users["sc_regulator"])
    url = f"/api/v1/institutions/{chengdu_institution.credit_code}/thresholds/"
    english = {t["code"]: t["source"] for t in client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()}
    chinese = {t["code"]: t["source"] for t in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()}
    assert (english["DQ-01"], chinese["DQ-01"]) == (DQ01_EN, DQ01_ZH)


def test_the_threshold_form_edits_the_english_source(users, client_for):
    dq01 = Threshold.objects.get(code="DQ-01")
    form = {
        "indicator": dq01.indicator,
        "comparator": dq01.comparator,
        "value": str(dq01.value),
        "severity": dq01.severity,
        "scope": dq01.scope,
        "region_code": dq01.region_code,
        "effective_from": dq01.effective_from.isoformat(),
        "effective_to": "",
        "source": dq01.source,
        "source_en": "Off-site Supervision Rules for Financing Guarantee Companies (CBIRC, 2020), art. 13",
        "confidence": dq01.confidence,
        "note": "",
        "action": "save",
    }
    client = client_for(users["admin"])
    page = _page(client, reverse("supervision:threshold_detail", args=[dq01.pk]), "en")
    assert 'name="source_en"' in page
    response = client.post(reverse("supervision:threshold_detail", args=[dq01.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    dq01.refresh_from_db()
    assert (dq01.source, dq01.source_en) == (
        DQ01_ZH,
        "Off-site Supervision Rules for Financing Guarantee Companies (CBIRC, 2020), art. 13",
    )
