import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from institutions import services
from institutions.models import ChangeFiling, Manager, Shareholder

pytestmark = pytest.mark.django_db


def test_shareholders_rules(users, chengdu_institution):
    filer = users["cd_filer"]
    services.shareholder_save(
        actor=filer,
        institution=chengdu_institution,
        name="成都产业投资集团有限公司",
        kind="government",
        share_ratio=Decimal("0.6"),
        is_controlling=True,
        is_actual_controller=True,
    )
    with pytest.raises(ValidationError):  # below 5%
        services.shareholder_save(
            actor=filer, institution=chengdu_institution, name="小股东", share_ratio=Decimal("0.03")
        )
    with pytest.raises(ValidationError):  # a second controlling shareholder
        services.shareholder_save(
            actor=filer,
            institution=chengdu_institution,
            name="乙公司",
            share_ratio=Decimal("0.2"),
            is_controlling=True,
        )
    with pytest.raises(ValidationError):  # over 100%
        services.shareholder_save(
            actor=filer, institution=chengdu_institution, name="丙公司", share_ratio=Decimal("0.45")
        )
    with pytest.raises(PermissionDenied):
        services.shareholder_save(
            actor=users["my_filer"],
            institution=chengdu_institution,
            name="丁公司",
            share_ratio=Decimal("0.1"),
        )
    assert list(Shareholder.objects.values_list("name", "share_ratio")) == [
        ("成都产业投资集团有限公司", Decimal("0.6000"))
    ]


def test_change_filing_deadline_and_review(users, chengdu_institution):
    filing = services.change_filing_submit(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        item="managers",
        description="总经理变更为王五",
        changed_on=dt.date(2025, 3, 1),
        filed_on=dt.date(2025, 4, 5),
    )
    assert (filing.due_on, filing.is_late) == (dt.date(2025, 3, 31), True)
    on_time = services.change_filing_submit(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        item="name",
        description="更名",
        changed_on=dt.date(2025, 3, 1),
        filed_on=dt.date(2025, 3, 31),
    )
    assert on_time.is_late is False
    with pytest.raises(PermissionDenied):  # the regulator does not file for the company
        services.change_filing_submit(
            actor=users["cd_regulator"],
            institution=chengdu_institution,
            item="name",
            description="x",
            changed_on=dt.date(2025, 3, 1),
        )
    with pytest.raises(PermissionDenied):
        services.change_filing_review(actor=users["my_regulator"], filing=filing, acknowledge=True)
    with pytest.raises(ValidationError):
        services.change_filing_review(actor=users["cd_regulator"], filing=filing, acknowledge=False)
    services.change_filing_review(actor=users["cd_regulator"], filing=filing, acknowledge=True, note="已知悉")
    filing.refresh_from_db()
    assert (filing.status, filing.reviewed_by, filing.review_note) == (
        "acknowledged",
        users["cd_regulator"],
        "已知悉",
    )


def test_change_filing_pages_and_isolation(users, chengdu_institution, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    filer = client_for(users["cd_filer"])
    url = reverse("institutions:change_filing_submit", args=[chengdu_institution.pk])
    doc = SimpleUploadedFile("决议.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    assert (
        filer.post(
            url,
            {
                "item": "capital",
                "description": "注册资本增至5亿元",
                "changed_on": "2025-05-01",
                "document": doc,
            },
        ).status_code
        == 302
    )
    filing = ChangeFiling.objects.get()
    assert filing.document.name.startswith("change_filings/")
    assert (
        client_for(users["my_filer"])
        .post(url, {"item": "capital", "description": "x", "changed_on": "2025-05-01"})
        .status_code
        == 404
    )
    doc_url = reverse("institutions:change_filing_document", args=[filing.pk])
    assert filer.get(doc_url).status_code == 200
    for who, status in (
        ("my_filer", 404),
        ("my_regulator", 404),
        ("cd_regulator", 200),
        ("zj_regulator", 404),
    ):
        assert client_for(users[who]).get(doc_url).status_code == status
    review = reverse("institutions:change_filing_review", args=[filing.pk])
    assert client_for(users["cd_filer"]).post(review, {"decision": "acknowledge"}).status_code == 403
    assert client_for(users["my_regulator"]).post(review, {"decision": "acknowledge"}).status_code == 404
    assert client_for(users["cd_regulator"]).post(review, {"decision": "acknowledge"}).status_code == 302
    assert ChangeFiling.objects.get().status == "acknowledged"
    page = filer.get(
        reverse("institutions:detail", args=[chengdu_institution.pk]) + "?tab=changes"
    ).content.decode()
    assert "注册资本增至5亿元" in page and "已确认" in page


def test_people_pages(users, chengdu_institution, client_for):
    base = reverse("institutions:detail", args=[chengdu_institution.pk])
    filer = client_for(users["cd_filer"])
    post = reverse("institutions:people_edit", args=[chengdu_institution.pk, "manager"])
    assert (
        filer.post(
            post, {"name": "王五", "role": "senior", "title": "总经理", "since": "2025-03-01"}
        ).status_code
        == 302
    )
    assert (
        client_for(users["my_filer"]).post(post, {"name": "X", "role": "senior", "title": "Y"}).status_code
        == 404
    )
    assert (
        client_for(users["cd_finance"]).post(post, {"name": "X", "role": "senior", "title": "Y"}).status_code
        == 403
    )
    assert list(Manager.objects.values_list("name", "title")) == [("王五", "总经理")]
    sh = reverse("institutions:people_edit", args=[chengdu_institution.pk, "shareholder"])
    assert (
        filer.post(
            sh, {"name": "甲公司", "kind": "company", "share_ratio": "51", "is_controlling": "on"}
        ).status_code
        == 302
    )
    assert Shareholder.objects.get().share_ratio == Decimal("0.5100")
    page = filer.get(base + "?tab=people").content.decode()
    assert "甲公司" in page and "51%" in page and "控股股东" in page
    delete = reverse("institutions:people_edit", args=[chengdu_institution.pk, "delete_manager"])
    assert filer.post(delete, {"id": Manager.objects.get().pk}).status_code == 302
    assert not Manager.objects.exists()


def test_controlling_parties_selector(users, chengdu_institution, mianyang_institution):
    from institutions.selectors import controlling_parties

    services.shareholder_save(
        actor=None,
        institution=chengdu_institution,
        name="甲",
        share_ratio=Decimal("0.5"),
        is_controlling=True,
        identifier="91510100MA0000000X",
    )
    services.shareholder_save(
        actor=None, institution=chengdu_institution, name="乙", share_ratio=Decimal("0.2")
    )
    services.shareholder_save(
        actor=None,
        institution=mianyang_institution,
        name="丙",
        kind="person",
        share_ratio=Decimal("0.1"),
        is_actual_controller=True,
    )
    assert controlling_parties([chengdu_institution.pk, mianyang_institution.pk]) == {
        chengdu_institution.pk: [
            {
                "name": "甲",
                "identifier": "91510100MA0000000X",
                "controlling": True,
                "actual_controller": False,
            }
        ],
        mianyang_institution.pk: [
            {"name": "丙", "identifier": "", "controlling": False, "actual_controller": True}
        ],
    }
