"""Demo registry from seed 003 (Sichuan, 2020 Q3): the 88 institutions of the fee-reduction award list, and
the 13 companies of the two licence notices (5 licences cancelled, 8 revoked; see seed_notices.py).

Credit codes, capital and dates are synthetic but deterministic (valid GB 32100 check characters)."""

import csv
import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

from core.stored_text import Message

from . import seed_notices
from .choices import EntityKind, InstitutionStatus, NoticeKind, Ownership
from .models import Institution
from .services import institution_upsert
from .validators import credit_code_check_char

AWARD_LIST = Path(__file__).resolve().parent / "data" / "sichuan_2020_award_list.csv"


def demo_credit_code(region_code: str, n: int) -> str:
    first17 = f"91{region_code}DB{n:07d}"
    return first17 + credit_code_check_char(first17)


def _stable_int(text: str, modulo: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % modulo


def seed() -> list[Institution]:
    with open(AWARD_LIST, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    institutions = []
    for n, row in enumerate(rows, start=1):
        institution, _created = institution_upsert(
            actor=None,
            credit_code=demo_credit_code(row["city_code"], n),
            name=row["name"],
            region_id=row["city_code"],
            level=row["level"],
            **_synthetic_profile(row["name"]),
        )
        institutions.append(institution)
    extra = seed_registry(institutions)
    return institutions + extra["branches"] + seed_licence_notices()


def _synthetic_profile(name: str) -> dict:
    """Capital, founding date, staff and flags derived from the name (the seeds give none of them)."""
    paid_in = Decimal(20000 + 1000 * _stable_int(name, 80))
    return {
        "ownership": Ownership.PRIVATE if "互助" in name else Ownership.STATE,
        "registered_capital": paid_in,
        "paid_in_capital": paid_in,
        "established_on": dt.date(2005, 1, 1) + dt.timedelta(days=_stable_int(name + "d", 4000)),
        "is_reguarantee": "再担保" in name,
        "credit_reference_access": _stable_int(name + "c", 3) > 0,
        "staff_count": 12 + _stable_int(name + "s", 60),
    }


# --- registry extension: licences, cross-province branches, banks, agreements, one list batch ---------

# name, parent name, region, legal-entity number for the credit code
BRANCHES = [
    ("四川省金玉融资担保有限公司重庆分公司", "四川省金玉融资担保有限公司", "500103", 1),
    ("成都中小企业融资担保有限责任公司温州分公司", "成都中小企业融资担保有限责任公司", "330302", 2),
    ("绵阳科发融资担保有限公司西安分公司", "绵阳科发融资担保有限公司", "610113", 3),
]

# name, kind, parent, region
BANKS = [
    ("中国工商银行股份有限公司", "head_office", None, None),
    ("中国工商银行股份有限公司四川省分行", "branch", "中国工商银行股份有限公司", "510000"),
    ("中国建设银行股份有限公司", "head_office", None, None),
    ("中国建设银行股份有限公司四川省分行", "branch", "中国建设银行股份有限公司", "510000"),
    ("成都银行股份有限公司", "head_office", None, "510100"),
    ("绵阳市商业银行股份有限公司", "head_office", None, "510700"),
    ("温州银行股份有限公司", "head_office", None, "330300"),
]

# institution, bank, start, end, credit line (万元), shares (bank, guarantor, re-guarantor, fund, gov), margin, grace,
# scope, 总对总, rate cap, single-client limit
AGREEMENTS = [
    (
        "成都中小企业融资担保有限责任公司",
        "中国工商银行股份有限公司四川省分行",
        "2024-01-01",
        "2026-12-31",
        100000,
        ("0.20", "0.40", "0.20", "0.20", "0"),
        "0",
        30,
        "principal_interest",
        False,
        None,
        None,
    ),
    (
        "成都中小企业融资担保有限责任公司",
        "成都银行股份有限公司",
        "2025-03-01",
        "2027-02-28",
        50000,
        ("0.10", "0.90", "0", "0", "0"),
        "0.10",
        15,
        "all",
        False,
        None,
        None,
    ),  # bank share below 20%
    (
        "成都中小企业融资担保有限责任公司温州分公司",
        "温州银行股份有限公司",
        "2025-01-01",
        "2026-12-31",
        20000,
        ("0.20", "0.80", "0", "0", "0"),
        "0.10",
        15,
        "all",
        False,
        None,
        None,
    ),  # Wenzhou: margin, grace, scope
    (
        "四川省信用再担保有限公司",
        "中国建设银行股份有限公司",
        "2024-07-01",
        "2027-06-30",
        300000,
        ("0.20", "0.30", "0.20", "0.10", "0.20"),
        "0",
        60,
        "principal_interest",
        True,
        "0.05",
        "2000",
    ),  # 总对总 limits
    (
        "绵阳科发融资担保有限公司",
        "绵阳市商业银行股份有限公司",
        "2025-01-01",
        "2027-12-31",
        30000,
        ("0.20", "0.60", "0.20", "0", "0"),
        "0",
        30,
        "principal_interest",
        False,
        None,
        None,
    ),
    (
        "四川省金玉融资担保有限公司",
        "中国工商银行股份有限公司",
        "2023-01-01",
        "2025-12-31",
        80000,
        ("0.30", "0.70", "0", "0", "0"),
        "0",
        30,
        "principal_interest",
        False,
        None,
        None,
    ),
]

GOV_BATCH_TITLE = "四川省政府性融资担保机构名单（2024年第一批）"


def seed_registry(institutions: list[Institution]) -> dict:
    """Idempotent: creates only what is missing (a re-run records no audit events)."""
    from .models import Agreement, Bank, GovListBatch, Licence
    from .services import (
        agreement_save,
        govlist_batch_confirm,
        govlist_batch_create,
        govlist_batch_propose,
        govlist_entry_set,
        licence_issue,
    )

    by_name = {i.name: i for i in institutions}
    for n, inst in enumerate(institutions, start=1):
        if not Licence.objects.filter(institution=inst).exists():
            licence_issue(
                actor=None,
                institution=inst,
                number=f"川A2{n:05d}",
                with_notice=False,
                issued_on=dt.date(2018, 6, 30) + dt.timedelta(days=_stable_int(inst.name + "l", 900)),
                business_scope="借款类担保业务、发行债券担保业务和其他融资担保业务",
            )
    branches = []
    for name, parent_name, region, n in BRANCHES:
        parent = by_name[parent_name]
        branch, _created = institution_upsert(
            actor=None,
            credit_code=demo_credit_code(region, 800 + n),
            name=name,
            kind="branch",
            parent=parent,
            cross_province_branch=True,
            region_id=region,
            level="county",
            ownership=parent.ownership,
            registered_capital=Decimal(0),
            paid_in_capital=Decimal(0),
            established_on=dt.date(2019, 5, 1),
        )
        branches.append(branch)
        by_name[name] = branch
    banks = {}
    for name, kind, parent, region in BANKS:
        banks[name], _ = Bank.objects.get_or_create(
            name=name, defaults={"kind": kind, "parent": banks.get(parent), "region_id": region}
        )
    for inst_name, bank_name, start, end, line, shares, margin, grace, scope, h2h, cap, single in AGREEMENTS:
        inst, bank = by_name[inst_name], banks[bank_name]
        if Agreement.objects.filter(institution=inst, bank=bank, starts_on=start).exists():
            continue
        agreement_save(
            actor=None,
            institution=inst,
            bank=bank,
            starts_on=dt.date.fromisoformat(start),
            ends_on=dt.date.fromisoformat(end),
            credit_line=Decimal(line),
            share_bank=Decimal(shares[0]),
            share_guarantor=Decimal(shares[1]),
            share_reguarantor=Decimal(shares[2]),
            share_national_fund=Decimal(shares[3]),
            share_gov_fund=Decimal(shares[4]),
            margin_ratio=Decimal(margin),
            grace_days=grace,
            compensation_scope=scope,
            head_to_head=h2h,
            compensation_rate_cap=Decimal(cap) if cap else None,
            single_client_limit=Decimal(single) if single else None,
        )
    if not GovListBatch.objects.filter(title=GOV_BATCH_TITLE).exists():
        batch = govlist_batch_create(
            actor=None,
            region_code="510000",
            title=GOV_BATCH_TITLE,
            published_on=dt.date(2024, 6, 30),
            note="由省财政厅会同省地方金融监管局确认发布（演示数据）。",
        )
        listed = [i for i in institutions if i.ownership == Ownership.STATE][:12]
        for k, inst in enumerate(listed):
            govlist_entry_set(
                actor=None,
                batch=batch,
                institution=inst,
                action="include",
                capital_replenishment=True,
                risk_compensation=k % 2 == 0,
                national_fund_equity=k % 4 == 0,
                national_fund_reguarantee=k % 3 != 2,
            )
        govlist_batch_propose(actor=None, batch=batch)
        govlist_batch_confirm(actor=None, batch=batch)
    _seed_people(by_name["成都中小企业融资担保有限责任公司"])
    return {"branches": branches, "banks": len(banks)}


def _seed_people(inst: Institution) -> None:
    """Synthetic shareholders, managers and one change filing for the demo company (idempotent)."""
    from .models import ChangeFiling, Manager, Shareholder
    from .services import change_filing_submit, manager_save, shareholder_save

    if not Shareholder.objects.filter(institution=inst).exists():
        shareholder_save(
            actor=None,
            institution=inst,
            name="成都市国有资产投资运营有限公司（演示）",
            kind="government",
            share_ratio=Decimal("0.6"),
            is_controlling=True,
            is_actual_controller=True,
        )
        shareholder_save(
            actor=None,
            institution=inst,
            name="四川产业发展投资有限公司（演示）",
            kind="company",
            share_ratio=Decimal("0.25"),
        )
    if not Manager.objects.filter(institution=inst).exists():
        for name, role, title in (
            ("周董事", "director", "董事长"),
            ("吴监事", "supervisor", "监事会主席"),
            ("郑经理", "senior", "总经理"),
        ):
            manager_save(
                actor=None, institution=inst, name=name, role=role, title=title, since=dt.date(2022, 1, 1)
            )
    if not ChangeFiling.objects.filter(institution=inst).exists():
        change_filing_submit(
            actor=None,
            institution=inst,
            item="managers",
            description="总经理由王某变更为郑经理（演示）",
            changed_on=dt.date(2025, 9, 1),
            filed_on=dt.date(2025, 9, 20),
        )


# --- the Sichuan licence notices of seed 003: 5 cancellations, 8 revocations (see seed_notices.py) -----

# Credit-code numbers of the notice companies, apart from the award list (1–88) and the branches (801–803).
NOTICE_CODE_BASE = 900
# Where each holder stands afterwards: a cancelled one has given up the business (on its own application);
# a revoked one still has to change or deregister with the market regulator (a duty of the revocation).
STATUS_AFTER = {
    NoticeKind.CANCEL: InstitutionStatus.DEREGISTERED,
    NoticeKind.REVOKE: InstitutionStatus.EXITING,
}


def seed_licence_notices() -> list[Institution]:
    """The notice companies (and the unlisted parent of a listed branch) with their licences, cancelled and
    revoked through the regulator's services, and both notices published with their text as printed.
    Idempotent: what exists is left alone, so a re-run records nothing. Returns the companies in CSV order."""
    from .models import Licence
    from .services import licence_issue

    rows = seed_notices.rows()
    names = list(dict.fromkeys([r["name"] for r in rows] + seed_notices.parents_not_listed()))
    parent_of = {r["name"]: r["parent_name"] for r in rows if r["is_branch"] == "1"}
    by_name = {}
    for name in sorted(names, key=lambda nm: nm in parent_of):  # parents before their branches
        if name in parent_of:
            parent = by_name[parent_of[name]]
            fields = {
                "kind": EntityKind.BRANCH,
                "parent": parent,
                "ownership": parent.ownership,
                "registered_capital": Decimal(0),
                "paid_in_capital": Decimal(0),
            }
        else:
            fields = _synthetic_profile(name)
        region = seed_notices.region_of(name)
        by_name[name], _created = institution_upsert(
            actor=None,
            credit_code=demo_credit_code(region, NOTICE_CODE_BASE + 1 + names.index(name)),
            name=name,
            region_id=region,
            level="city",
            **fields,
        )
    for row in rows:
        if not Licence.objects.filter(number=row["licence_number"]).exists():
            # The seed gives no issue dates, and the issue notices are not part of it.
            licence_issue(
                actor=None,
                institution=by_name[row["name"]],
                number=row["licence_number"],
                issued_on=None,
                with_notice=False,
            )
    for key, printed in seed_notices.NOTICES.items():
        _seed_notice(printed, seed_notices.rows_of(key))
        for row in seed_notices.rows_of(key):
            holder = by_name[row["name"]]
            by_name[row["name"]], _created = institution_upsert(
                actor=None,
                credit_code=holder.credit_code,
                status=STATUS_AFTER[printed.kind],
                # from the notice's day; the cancellation notice prints none: the day it is first seeded
                **({"status_changed_on": printed.on} if printed.on else {}),
            )
    return [by_name[name] for name in names]


def _seed_notice(printed: seed_notices.SeedNotice, rows: list[dict]) -> None:
    """Cancel or revoke the licences of `rows` unless their notice exists; publish it if still a draft."""
    from .choices import NoticeStatus
    from .models import Licence, Notice
    from .services import licences_cancel, licences_revoke, notice_publish, notice_update

    numbers = [r["licence_number"] for r in rows]
    notice = next(
        (
            n
            for n in Notice.objects.filter(kind=printed.kind, items__licence_number=numbers[0]).distinct()
            if list(n.items.order_by("seq").values_list("licence_number", flat=True)) == numbers
        ),
        None,
    )
    if notice is None:
        licences = [Licence.objects.get(number=number) for number in numbers]
        if printed.kind == NoticeKind.CANCEL:
            notice = licences_cancel(
                actor=None,
                licences=licences,
                reason=Message(printed.reason),  # in the catalogue: the audit note reads in each language
                on=printed.on,
                period_label=printed.period_label,
                title=printed.title,
            )
        else:
            notice = licences_revoke(
                actor=None,
                licences=licences,
                decision_no="",
                on=printed.on,
                reason=Message(printed.reason),
                title=printed.title,
            )
        # The service drafts standard wording; the published notice carries the text as printed.
        notice = notice_update(actor=None, notice=notice, body=printed.body)
    if notice.status == NoticeStatus.DRAFT:
        notice_publish(actor=None, notice=notice)
