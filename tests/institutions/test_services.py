import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from institutions import selectors, services
from institutions.models import Bank, Licence, Notice, PolicyRule
from institutions.rules import agreement_findings, institution_findings
from institutions.signals import government_backed_changed, institution_attributes_changed
from tests.factories import InstitutionFactory

from .conftest import agreement_fields

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "number,ok",
    [
        ("川A110331", True),
        ("川F005", True),
        ("浙A110331", False),
        ("川a1103", False),
        ("川A11", False),
        ("A110331", False),
    ],
)
def test_licence_number_pattern_from_province_settings(number, ok, chengdu_institution):
    if ok:
        assert (
            services.licence_issue(
                actor=None, institution=chengdu_institution, number=number, issued_on=dt.date(2020, 1, 1)
            ).number
            == number
        )
    else:
        with pytest.raises(ValidationError) as exc:
            services.licence_issue(
                actor=None, institution=chengdu_institution, number=number, issued_on=dt.date(2020, 1, 1)
            )
        assert "川" in str(exc.value)
        assert not Licence.objects.exists()


def test_province_without_settings_is_refused():
    zj = InstitutionFactory(region_id="330106")
    with pytest.raises(ValidationError):
        services.licence_issue(actor=None, institution=zj, number="浙A1001", issued_on=dt.date(2020, 1, 1))


def test_issue_creates_draft_notice_and_change_keeps_number(users, chengdu_institution):
    lic = services.licence_issue(
        actor=users["sc_regulator"],
        institution=chengdu_institution,
        number="川A120001",
        issued_on=dt.date(2020, 1, 1),
    )
    notice = Notice.objects.get()
    assert (notice.kind, notice.status, notice.region_id) == ("issue", "draft", "510000")
    assert [(i.institution_name, i.licence_number) for i in notice.items.all()] == [
        (chengdu_institution.name, "川A120001")
    ]
    services.licence_change(
        actor=users["sc_regulator"],
        licence=lic,
        business_scope="借款类担保",
        issued_on=dt.date(2023, 5, 1),
        note="换发",
    )
    lic.refresh_from_db()
    assert (lic.number, lic.business_scope, lic.issued_on) == ("川A120001", "借款类担保", dt.date(2023, 5, 1))
    with pytest.raises(ValidationError):
        services.licence_change(actor=users["sc_regulator"], licence=lic, number="川A999999")
    assert AuditEvent.objects.filter(object_id=str(lic.pk), action="update").count() == 1


def test_city_regulator_cannot_handle_licences(users, chengdu_institution):
    with pytest.raises(PermissionDenied):
        services.licence_issue(
            actor=users["cd_regulator"],
            institution=chengdu_institution,
            number="川A120002",
            issued_on=dt.date(2020, 1, 1),
        )


def test_revoked_licence_cannot_be_cancelled(users, chengdu_institution):
    lic = services.licence_issue(
        actor=None, institution=chengdu_institution, number="川A120003", issued_on=dt.date(2020, 1, 1)
    )
    services.licences_revoke(
        actor=users["sc_regulator"],
        licences=[lic],
        decision_no="川金监〔2020〕1号",
        on=dt.date(2020, 9, 29),
        reason="整改验收不合格",
    )
    with pytest.raises(ValidationError):
        services.licences_cancel(
            actor=users["sc_regulator"], licences=[lic], reason="申请", on=dt.date(2020, 10, 1)
        )
    lic.refresh_from_db()
    assert (lic.status, lic.revocation_decision_no) == ("revoked", "川金监〔2020〕1号")
    duty = lic.duties.get(kind="announce")
    assert duty.state(dt.date(2020, 10, 4)) == "open" and duty.state(dt.date(2020, 10, 5)) == "overdue"
    services.licence_duty_complete(actor=users["sc_regulator"], duty=duty, done_on=dt.date(2020, 10, 2))
    duty.refresh_from_db()
    assert duty.state(dt.date(2021, 1, 1)) == "done"
    lawsuit = lic.duties.get(kind="lawsuit")  # a right, never overdue: due 2021-03-29, then lapsed
    assert [
        lawsuit.state(day) for day in (dt.date(2021, 3, 29), dt.date(2021, 3, 30), dt.date(2030, 1, 1))
    ] == ["open", "lapsed", "lapsed"]


def test_government_list_propose_confirm_and_signal(users, chengdu_institution, mianyang_institution):
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    government_backed_changed.connect(listener)
    try:
        batch = services.govlist_batch_create(
            actor=users["sc_finance"],
            region_code="510000",
            title="四川省政府性融资担保机构名单（第一批）",
            published_on=dt.date(2024, 3, 1),
        )
        services.govlist_entry_set(
            actor=users["sc_finance"],
            batch=batch,
            institution=chengdu_institution,
            action="include",
            capital_replenishment=True,
            national_fund_reguarantee=True,
        )
        services.govlist_entry_set(
            actor=users["sc_finance"], batch=batch, institution=mianyang_institution, action="include"
        )
        services.govlist_batch_propose(actor=users["sc_finance"], batch=batch)
        with pytest.raises(PermissionDenied):  # the same side cannot confirm
            services.govlist_batch_confirm(actor=users["cd_finance"], batch=batch)
        with pytest.raises(PermissionDenied):  # another region's regulator cannot either
            services.govlist_batch_confirm(actor=users["zj_regulator"], batch=batch)
        services.govlist_batch_confirm(actor=users["sc_regulator"], batch=batch)
        assert [(r["institution_ids"], r["on"]) for r in received] == [
            ([chengdu_institution.pk, mianyang_institution.pk], dt.date(2024, 3, 1))
        ]
        assert selectors.government_backed_ids(on=dt.date(2024, 3, 1)) == {
            chengdu_institution.pk,
            mianyang_institution.pk,
        }
        assert selectors.government_backed_ids(on=dt.date(2024, 2, 29)) == set()

        removal = services.govlist_batch_create(
            actor=users["sc_regulator"],
            region_code="510000",
            title="名单调整",
            published_on=dt.date(2025, 1, 1),
        )
        with pytest.raises(ValidationError):
            services.govlist_entry_set(
                actor=users["sc_regulator"], batch=removal, institution=mianyang_institution, action="remove"
            )
        services.govlist_entry_set(
            actor=users["sc_regulator"],
            batch=removal,
            institution=mianyang_institution,
            action="remove",
            reason="持续偏离主业",
        )
        services.govlist_batch_propose(actor=users["sc_regulator"], batch=removal)
        services.govlist_batch_confirm(actor=users["sc_finance"], batch=removal)
        assert selectors.government_backed_ids(on=dt.date(2025, 1, 1)) == {chengdu_institution.pk}
        notice = Notice.objects.get(kind="list_change", title="名单调整")
        assert notice.status == "published"
        assert [(i.institution_name, i.remark) for i in notice.items.all()] == [
            (mianyang_institution.name, "移出：持续偏离主业")
        ]
        current = selectors.current_government_list(on=dt.date(2025, 6, 1))
        assert [
            (e.institution_id, e.capital_replenishment, e.national_fund_reguarantee) for e in current
        ] == [(chengdu_institution.pk, True, True)]
    finally:
        government_backed_changed.disconnect(listener)
    assert len(received) == 2 and received[1]["institution_ids"] == [mianyang_institution.pk]


def test_region_or_ownership_change_sends_signal(chengdu_institution):
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs["institution_ids"])

    institution_attributes_changed.connect(listener)
    try:
        code = chengdu_institution.credit_code
        services.institution_upsert(actor=None, credit_code=code, staff_count=40)
        assert received == []
        services.institution_upsert(actor=None, credit_code=code, ownership="private")
        services.institution_upsert(actor=None, credit_code=code, region_id="510105")
        assert received == [[chengdu_institution.pk], [chengdu_institution.pk]]
    finally:
        institution_attributes_changed.disconnect(listener)


def test_institution_findings_from_policy_rows():
    inst = InstitutionFactory(
        name="广安市农业信贷担保有限公司", paid_in_capital=Decimal("1500"), region_id="511600"
    )
    findings = institution_findings(inst, selectors.rules_for("511600", dt.date(2025, 1, 1)))
    assert [(f.code, f.severity) for f in findings] == [
        ("paid_in_min", "breach"),
        ("name_keyword", "warning"),
    ]
    assert findings[0].message == "实缴资本1,500.00万元，低于2,000万元。"
    PolicyRule.objects.filter(code="paid_in_min").update(value=Decimal("1000"))
    assert [
        f.code for f in institution_findings(inst, selectors.rules_for("511600", dt.date(2025, 1, 1)))
    ] == ["name_keyword"]


def _agreement(region, **over):
    from institutions.models import Agreement

    inst = InstitutionFactory(region_id=region)
    fields = agreement_fields(bank=Bank.objects.get_or_create(name="规则银行")[0], **over)
    return Agreement(institution=inst, **fields)


def test_agreement_rules_national_and_wenzhou():
    on = dt.date(2025, 1, 1)
    good = _agreement("510104")
    assert agreement_findings(good, selectors.rules_for("510104", on)) == []
    # Wenzhou 330300 (a county inside it, 330302): margin 0, grace >= 30, scope principal + normal interest, bank >= 20% breach
    wz = _agreement(
        "330302",
        margin_ratio=Decimal("0.1"),
        grace_days=15,
        compensation_scope="all",
        share_bank=Decimal("0.1"),
        share_guarantor=Decimal("0.5"),
    )
    found = agreement_findings(wz, selectors.rules_for("330302", on))
    assert sorted((f.code, f.severity) for f in found) == [
        ("bank_share_min", "breach"),
        ("grace_min", "breach"),
        ("margin_max", "breach"),
        ("scope_required", "breach"),
    ]
    # the same terms elsewhere: only the national bank-share warning
    sc = _agreement(
        "510104",
        margin_ratio=Decimal("0.1"),
        grace_days=15,
        compensation_scope="all",
        share_bank=Decimal("0.1"),
        share_guarantor=Decimal("0.5"),
    )
    assert [
        (f.code, f.severity, f.message) for f in agreement_findings(sc, selectors.rules_for("510104", on))
    ] == [("bank_share_min", "warning", "银行分担比例10%，低于20%。")]


def test_agreement_rules_fund_and_head_to_head():
    on = dt.date(2025, 1, 1)
    a = _agreement(
        "510104",
        share_reguarantor=Decimal("0.1"),
        share_national_fund=Decimal("0.15"),
        share_guarantor=Decimal("0.55"),
        head_to_head=True,
        single_client_limit=Decimal("2000"),
        compensation_rate_cap=Decimal("0.05"),
    )
    assert [f.code for f in agreement_findings(a, selectors.rules_for("510104", on))] == [
        "fund_share_min",
        "reguarantee_ge_fund",
        "h2h_single_client_max",
        "h2h_rate_cap_max",
    ]
    bad_sum = _agreement("510104", share_guarantor=Decimal("0.5"))
    found = agreement_findings(bad_sum, selectors.rules_for("510104", on))
    assert (found[0].code, found[0].severity, found[0].message) == (
        "share_total",
        "error",
        "各方分担比例之和为110%，须恰为100%。",
    )
    with pytest.raises(ValidationError):
        bad_sum.full_clean()


def test_cross_province_branch_needs_parent_capital_of_one_billion():
    parent = InstitutionFactory(name="四川甲融资担保有限公司", registered_capital=Decimal("50000"))
    branch = InstitutionFactory(
        name="四川甲融资担保有限公司重庆分公司",
        region_id="500103",
        kind="branch",
        parent=parent,
        cross_province_branch=True,
        registered_capital=0,
        paid_in_capital=0,
    )
    findings = institution_findings(branch, selectors.rules_for("500103", dt.date(2025, 1, 1)))
    assert [(f.code, f.severity, f.message) for f in findings] == [
        (
            "cross_province_capital_min",
            "breach",
            "跨省分支机构的法人机构注册资本50,000.00万元，低于100,000万元。",
        )
    ]
    parent.registered_capital = Decimal("100000")
    assert institution_findings(branch, selectors.rules_for("500103", dt.date(2025, 1, 1))) == []


@pytest.mark.parametrize(
    ("status", "refused"),
    [("operating", False), ("suspended", False), ("exiting", True), ("deregistered", True)],
)
def test_no_licence_for_an_exiting_or_deregistered_institution(users, client_for, status, refused):
    inst = InstitutionFactory(region_id="510104", status=status)
    page = client_for(users["sc_regulator"]).get(f"/institutions/{inst.pk}/").content.decode()
    assert (f"/institutions/{inst.pk}/licences/new/" in page) is not refused
    if refused:
        with pytest.raises(ValidationError, match="退出中或已注销的机构不能颁发许可证"):
            services.licence_issue(
                actor=users["sc_regulator"],
                institution=inst,
                number="川A130001",
                issued_on=dt.date(2026, 1, 5),
            )
        assert not Licence.objects.filter(institution=inst).exists()
    else:
        assert (
            services.licence_issue(
                actor=users["sc_regulator"],
                institution=inst,
                number="川A130001",
                issued_on=dt.date(2026, 1, 5),
            ).number
            == "川A130001"
        )


def test_institution_upsert_checks_the_actor_itself(users, mianyang_institution):
    """The service asks who may change registered items itself, whichever page, API or import calls it:
    a regulator of the institution's jurisdiction and of the region it is registered in."""
    code = mianyang_institution.credit_code
    for who in ("cd_regulator", "zj_regulator", "sc_finance", "my_filer"):
        with pytest.raises(PermissionDenied):
            services.institution_upsert(actor=users[who], credit_code=code, name="改名融资担保有限公司")
    with pytest.raises(PermissionDenied):  # moving it out of the jurisdiction
        services.institution_upsert(actor=users["my_regulator"], credit_code=code, region_id="510104")
    new = InstitutionFactory.build(region_id="510703", level="county")
    with pytest.raises(PermissionDenied):  # creating one outside the jurisdiction
        services.institution_upsert(
            actor=users["cd_regulator"],
            credit_code=new.credit_code,
            name=new.name,
            region_id="510703",
            level="county",
            registered_capital=new.registered_capital,
            paid_in_capital=new.paid_in_capital,
        )
    mianyang_institution.refresh_from_db()
    assert (mianyang_institution.name, mianyang_institution.region_id) == (
        "绵阳测试融资担保有限公司",
        "510703",
    )
    changed, created = services.institution_upsert(
        actor=users["my_regulator"], credit_code=code, name="绵阳改名融资担保有限公司"
    )
    assert (changed.name, created) == ("绵阳改名融资担保有限公司", False)
