"""The government-backed list as its keepers use it: a draft batch's date added later, a revoked
institution included only with a reason, the picker without branches and revoked institutions, the other
side sends a batch back, only the other side is offered confirmation, and a batch dated in the future is
not public before it takes effect."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from institutions import services
from institutions.models import GovListBatch, Licence
from tests.factories import InstitutionFactory


def licence(inst, number, status="valid"):
    return Licence.objects.create(
        number=number,
        institution=inst,
        issuing_authority="四川省地方金融监督管理局",
        issued_on=dt.date(2015, 1, 1),
        status=status,
        **({"revoked_on": dt.date(2024, 1, 1)} if status == "revoked" else {}),
    )


@pytest.fixture
def batch(users):
    return services.govlist_batch_create(actor=users["sc_finance"], region_code="510000", title="第一批")


def test_a_batch_without_a_date_gets_one_later(users, client_for, batch, chengdu_institution):
    c = client_for(users["sc_finance"])
    response = c.post(
        f"/govlist/{batch.pk}/",
        {"op": "edit", "title": "第一批（修订）", "published_on": "2026-01-05", "note": "n"},
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.title, batch.published_on, batch.note) == ("第一批（修订）", dt.date(2026, 1, 5), "n")
    services.govlist_entry_set(
        actor=users["sc_finance"], batch=batch, institution=chengdu_institution, action="include"
    )
    services.govlist_batch_propose(actor=users["sc_finance"], batch=batch)
    with pytest.raises(ValidationError):  # proposed: no longer editable
        services.govlist_batch_update(actor=users["sc_finance"], batch=batch, title="x", published_on=None)
    with pytest.raises(PermissionDenied):
        services.govlist_batch_update(actor=users["zj_regulator"], batch=batch, title="x", published_on=None)


def test_a_revoked_institution_needs_a_reason(users, batch, chengdu_institution):
    licence(chengdu_institution, "川A970001", status="revoked")
    with pytest.raises(ValidationError) as exc:
        services.govlist_entry_set(
            actor=users["sc_finance"], batch=batch, institution=chengdu_institution, action="include"
        )
    assert exc.value.message_dict == {"reason": ["该机构的经营许可证已被吊销，纳入名单须填写理由。"]}
    entry = services.govlist_entry_set(
        actor=users["sc_finance"],
        batch=batch,
        institution=chengdu_institution,
        action="include",
        reason="已重新申领",
    )
    assert entry.reason == "已重新申领"


def test_picker_lists_legal_entities_without_revoked_ones_and_is_searchable(
    users, client_for, batch, chengdu_institution, mianyang_institution
):
    licence(mianyang_institution, "川B970002", status="revoked")
    branch = InstitutionFactory(
        region_id="510104", name="成都测试分公司", kind="branch", parent=chengdu_institution
    )
    outside = InstitutionFactory(region_id="330102", name="杭州测试融资担保有限公司")
    body = client_for(users["sc_finance"]).get(f"/govlist/{batch.pk}/").content.decode()
    assert chengdu_institution.name in body
    for absent in (mianyang_institution, branch, outside):
        assert absent.name not in body
    assert 'data-searchable="1"' in body and "/static/js/select-filter.js" in body


def test_the_other_side_sends_a_batch_back_and_only_it_is_offered_confirmation(
    users, client_for, batch, chengdu_institution
):
    services.govlist_batch_update(
        actor=users["sc_finance"], batch=batch, title="第一批", published_on=dt.date(2026, 1, 5)
    )
    services.govlist_entry_set(
        actor=users["sc_finance"], batch=batch, institution=chengdu_institution, action="include"
    )
    services.govlist_batch_propose(actor=users["sc_finance"], batch=batch)
    proposer = client_for(users["sc_finance"]).get(f"/govlist/{batch.pk}/").content.decode()
    assert 'value="confirm"' not in proposer and 'value="send_back"' not in proposer
    assert "已提交，等待另一方（财政部门或监管部门）确认。" in proposer
    other = client_for(users["sc_regulator"])
    assert 'value="confirm"' in other.get(f"/govlist/{batch.pk}/").content.decode()
    with pytest.raises(PermissionDenied):
        services.govlist_batch_send_back(actor=users["cd_finance"], batch=batch, reason="x")
    assert other.post(f"/govlist/{batch.pk}/", {"op": "send_back", "reason": ""}).status_code == 302
    batch.refresh_from_db()
    assert batch.status == "proposed"  # a reason is needed
    other.post(f"/govlist/{batch.pk}/", {"op": "send_back", "reason": "请补充资本金补充机制依据"})
    batch.refresh_from_db()
    assert batch.status == "draft"
    assert [
        t.kind for t in __import__("core.inbox", fromlist=["tasks_for"]).tasks_for(users["sc_finance"])
    ] == ["govlist.draft"]


def test_a_future_dated_batch_is_not_public_before_it_takes_effect(
    users, client, chengdu_institution, mianyang_institution
):
    today = timezone.localdate()
    for title, inst, day in (
        ("已生效批次", chengdu_institution, today),
        ("未来批次", mianyang_institution, today + dt.timedelta(days=10)),
    ):
        b = services.govlist_batch_create(
            actor=users["sc_finance"], region_code="510000", title=title, published_on=day
        )
        services.govlist_entry_set(actor=users["sc_finance"], batch=b, institution=inst, action="include")
        services.govlist_batch_propose(actor=users["sc_finance"], batch=b)
        services.govlist_batch_confirm(actor=users["sc_regulator"], batch=b)
    page = client.get("/public/govlist/").content.decode()
    assert "已生效批次" in page and "未来批次" not in page and mianyang_institution.name not in page
    notices = client.get("/public/notices/").content.decode()
    assert "已生效批次" in notices and "未来批次" not in notices
    future = GovListBatch.objects.get(title="未来批次")
    assert future.status == "confirmed"
