"""Demo data of the subsidies: four institutions each in Banan (500113) and Liaocheng (371500) with their
finance, regulator and company logins, loan-level records written in bulk, the year's settings a bureau
enters (Liaocheng's 2025 rate, budgets, the Sichuan pool), and applications in every state under each
seeded scheme, all through the services (deterministic; a second run finds them and adds nothing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from core.roles import Role
from core.stored_text import Message
from guarantees.models import Client, Guarantee, GuaranteeEvent, ProductLine
from institutions.choices import ListAction, ListBatchStatus
from institutions.demo import demo_credit_code
from institutions.models import GovListBatch, GovListEntry, Institution

from . import services
from .choices import Status
from .models import Application, Scheme

BANAN = [
    ("重庆市巴南区兴农融资担保有限公司", "bnxn"),
    ("重庆市巴南区中小企业融资担保有限公司", "bnzx"),
    ("重庆巴南科创融资担保有限公司", "bnkc"),
    ("重庆巴南惠农融资担保有限公司", "bnhn"),
]
LIAOCHENG = [
    ("聊城市财信融资担保有限公司", "lccx", "371500"),
    ("聊城市东昌府区融资担保有限公司", "lcdc", "371502"),
    ("临清市融资担保有限公司", "lclq", "371581"),
    ("聊城高新融资担保有限公司", "lcgx", "371500"),
]
# username, family, given, role, region
OFFICERS = [
    ("bn_finance", "周", "财政", Role.FINANCE, "500113"),
    ("bn_finance2", "吴", "复核", Role.FINANCE, "500113"),
    ("bn_regulator", "郑", "监管", Role.REGULATOR, "500113"),
    ("lc_finance", "孙", "财政", Role.FINANCE, "371500"),
    ("lc_finance2", "钱", "复核", Role.FINANCE, "371500"),
    ("lc_regulator", "冯", "监管", Role.REGULATOR, "371500"),
]
# the states each region's eight (institution, year) applications end in
STATES = [
    Status.PAID,
    Status.PUBLICITY,
    Status.APPROVED,
    Status.REVIEWED,
    Status.RESUBMITTED,
    Status.RETURNED,
    Status.SUBMITTED,
    Status.DRAFT,
]
REJECT_AT = 7  # the draft slot: first an application rejected, then the company's new draft


def logins() -> set[str]:
    """The usernames this demo adds (finance, regulators and the companies of Banan and Liaocheng)."""
    companies = [login for _name, login in BANAN] + [login for _name, login, _region in LIAOCHENG]
    return {u[0] for u in OFFICERS} | {f"{c}_{role}" for c in companies for role in ("filer", "approver")}


def _user(username, last, first, role, region=None, institution=None) -> User:
    user, created = User.objects.update_or_create(
        username=username,
        defaults={
            "last_name": last,
            "first_name": first,
            "role": role,
            "region_id": region,
            "institution": institution,
            "email": f"{username}@demo.invalid",
        },
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _institution(name: str, region: str, n: int) -> Institution:
    inst, _ = Institution.objects.get_or_create(
        name=name,
        defaults={
            "credit_code": demo_credit_code(region, 8_100_000 + n),
            "region_id": region,
            "level": "city" if region.endswith("00") else "county",
            "registered_capital": Decimal("50000"),
            "paid_in_capital": Decimal("50000"),
        },
    )
    return inst


def _records(inst: Institution, n: int, *, gov_backed: bool, rural: bool) -> None:
    """Forty guarantees over 2024–2025 (bulk), some rural, fee rates around the schemes' limits, and
    releases and compensations for the risk-compensation scheme."""
    if Guarantee.objects.filter(institution=inst).exists():
        return
    lines = {pl.code: pl for pl in ProductLine.objects.all()}
    clients = Client.objects.bulk_create(
        [
            Client(
                institution=inst,
                name=f"{inst.name[:4]}客户{i:02d}有限公司",
                client_type="farmer" if rural and i % 4 == 0 else "small_micro",
                id_kind="credit_code",
                id_key=demo_credit_code(inst.region_id, 8_500_000 + n * 100 + i),
            )
            for i in range(40)
        ]
    )
    rates = ["0.008", "0.010", "0.012", "0.015", "0.018", "0.020", "0.021", "0.025"]
    guarantees = []
    for i, client in enumerate(clients):
        amount = Decimal(50 + (i * 37 + n * 11) % 12 * 50)
        start = dt.date(2024, 1, 1) + dt.timedelta(days=(i * 23 + n * 7) % 600)
        rate = Decimal(rates[(i + n) % len(rates)])
        line = "general"
        if rural and i % 4 == 0:
            line, rate = ("rural_startup" if i % 8 == 0 else "farmer_land_income"), Decimal("0.010")
        guarantees.append(
            Guarantee(
                institution=inst,
                client=client,
                contract_no=f"DB{inst.region_id}{n:02d}{i:04d}",
                other_lender="",
                bank=None,
                loan_amount=amount,
                guaranteed_amount=amount,
                start_date=start,
                end_date=start + dt.timedelta(days=365 if i % 3 else 180),
                fee_rate=rate,
                fee_amount=(amount * rate).quantize(Decimal("0.01")),
                product_line=lines[line],
                gov_backed=gov_backed,
            )
        )
    for g in guarantees:  # a lender is required: a bank or another creditor
        g.other_lender = "合作银行"
    guarantees = Guarantee.objects.bulk_create(guarantees)
    events = []
    for i, g in enumerate(guarantees):
        if g.end_date.year == 2025 or (g.end_date.year == 2024 and g.end_date < dt.date(2024, 12, 31)):
            if i % 13 == 5:
                events.append(
                    GuaranteeEvent(
                        guarantee=g,
                        kind="compensation",
                        occurred_on=g.end_date,
                        amount=g.guaranteed_amount / 4,
                    )
                )
                events.append(
                    GuaranteeEvent(
                        guarantee=g,
                        kind="release",
                        occurred_on=g.end_date,
                        amount=g.guaranteed_amount * 3 / 4,
                    )
                )
            else:
                events.append(
                    GuaranteeEvent(
                        guarantee=g, kind="release", occurred_on=g.end_date, amount=g.guaranteed_amount
                    )
                )
    GuaranteeEvent.objects.bulk_create(events)


def _govlist(institutions: list[Institution]) -> None:
    batch, created = GovListBatch.objects.get_or_create(
        region_id="371500",
        title="聊城市政府性融资担保机构名单（演示）",
        defaults={"published_on": dt.date(2023, 6, 1), "status": ListBatchStatus.CONFIRMED},
    )
    for inst in institutions:
        GovListEntry.objects.get_or_create(
            batch=batch, institution=inst, defaults={"action": ListAction.INCLUDE}
        )


def _drive(app: Application, target: str, c: dict, reject: bool = False) -> None:
    """Take a draft through the services to `target` (reject instead of approving when asked)."""
    if target == Status.DRAFT or app.uncomputable_reason:
        return
    services.application_submit(actor=c["approver"], application=app)
    if target == Status.SUBMITTED:
        return
    services.application_return(
        actor=c["reviewer"], application=app, note=Message("请补充相关担保合同及缴费凭证")
    )
    if target == Status.RETURNED:
        return
    services.application_recompute(actor=c["filer"], application=app, note="已补充担保合同及缴费凭证")
    services.application_submit(actor=c["approver"], application=app)
    if target == Status.RESUBMITTED:
        return
    services.application_review(actor=c["reviewer"], application=app, note=Message("材料齐全，测算无误"))
    if target == Status.REVIEWED:
        return
    if reject:
        services.application_decide(
            actor=c["decider"], application=app, approve=False, reason=Message("部分业务不符合产业政策")
        )
        return
    services.application_decide(actor=c["decider"], application=app, approve=True)
    if target == Status.APPROVED:
        return
    app.refresh_from_db()
    services.application_publish(actor=c["decider"], application=app, on=dt.date(2026, 1, 5))
    if target == Status.PUBLICITY:
        return
    services.application_pay(
        actor=c["decider"], application=app, paid_on=dt.date(2026, 1, 20), reference=f"财拨〔2026〕{app.pk}号"
    )


def _applications(scheme: Scheme, companies: list[tuple], officers: dict) -> int:
    made = 0
    # 2025 (last year) is the year being decided and paid; 2024's late applications are still open
    slots = [(inst, users, year) for year in (2025, 2024) for inst, users in companies]
    for i, (inst, users, year) in enumerate(slots):
        if Application.objects.filter(scheme=scheme, institution=inst, year=year).exists():
            continue
        app = services.application_create(actor=users["filer"], scheme=scheme, institution=inst, year=year)
        made += 1
        if i == REJECT_AT and not app.uncomputable_reason:
            _drive(app, Status.APPROVED, {**users, **officers}, reject=True)
            app = services.application_create(
                actor=users["filer"], scheme=scheme, institution=inst, year=year
            )
            made += 1
        _drive(app, STATES[i % len(STATES)], {**users, **officers})
    return made


def seed() -> dict:
    officers = {u[0]: _user(*u) for u in OFFICERS}
    banan, liaocheng = [], []
    for n, (name, login) in enumerate(BANAN):
        inst = _institution(name, "500113", n)
        _records(inst, n, gov_backed=n % 2 == 0, rural=True)
        users = {
            "filer": _user(f"{login}_filer", "许", "填报", Role.FILER, institution=inst),
            "approver": _user(f"{login}_approver", "何", "审核", Role.APPROVER, institution=inst),
        }
        banan.append((inst, users))
    for n, (name, login, region) in enumerate(LIAOCHENG):
        inst = _institution(name, region, 10 + n)
        _records(inst, 10 + n, gov_backed=True, rural=False)
        users = {
            "filer": _user(f"{login}_filer", "高", "填报", Role.FILER, institution=inst),
            "approver": _user(f"{login}_approver", "林", "审核", Role.APPROVER, institution=inst),
        }
        liaocheng.append((inst, users))
    _govlist([inst for inst, _ in liaocheng])

    fee = Scheme.objects.get(code="liaocheng-fee-subsidy")
    if not fee.params.get("yearly_points"):
        services.scheme_update(
            actor=officers["lc_finance"],
            scheme=fee,
            reason=Message("2024、2025年度补贴比例（演示数据，按市财政局年度通知录入）"),
            params={**fee.params, "yearly_points": {"2024": "0.005", "2025": "0.005"}},
            budget=Decimal("200"),
        )
    banan_scheme = Scheme.objects.get(code="banan-fee-subsidy")
    if banan_scheme.budget is None:
        services.scheme_update(
            actor=officers["bn_finance"],
            scheme=banan_scheme,
            reason=Message("年度预算（演示）"),
            budget=Decimal("100"),
        )
    risk = Scheme.objects.get(code="liaocheng-risk-compensation")
    made = 0
    bn = {"reviewer": officers["bn_finance"], "decider": officers["bn_finance2"]}
    lc = {"reviewer": officers["lc_finance"], "decider": officers["lc_finance2"]}
    made += _applications(banan_scheme, banan, bn)
    made += _applications(fee, liaocheng, lc)
    made += _applications(risk, liaocheng, lc)
    made += _award()
    return {"officers": list(officers), "applications": made}


def _award() -> int:
    """The Sichuan fee-reduction award for 2025 over Chengdu institutions that filed their Q4 report:
    the city bureau reviews, the provincial bureau allocates the pool, decides, publishes and pays."""
    scheme = Scheme.objects.get(code="sc-fee-reduction-award")
    if Application.objects.filter(scheme=scheme).exists():
        return 0
    province = _user("sc_finance", "张", "财政", Role.FINANCE, "510000")
    city = _user("cd_finance", "刘", "财政", Role.FINANCE, "510100")
    institutions = list(
        Institution.objects.filter(
            region__pk__startswith="5101",
            filings__year=2025,
            filings__quarter=4,
            filings__current_version__submitted_at__isnull=False,
        )
        .distinct()
        .order_by("pk")[:8]
    )
    if not institutions:
        return 0
    if scheme.budget is None:
        services.scheme_update(
            actor=province,
            scheme=scheme,
            reason=Message("2025年度降费奖补资金池（演示数据）"),
            budget=Decimal("3000"),
        )
    apps = []
    for inst in institutions:
        filer = User.objects.filter(institution=inst, role=Role.FILER).first()
        approver = User.objects.filter(institution=inst, role=Role.APPROVER).first()
        app = services.application_create(actor=filer, scheme=scheme, institution=inst, year=2025)
        apps.append((app, approver))
    for app, approver in apps[1:]:  # the first stays a draft
        services.application_submit(actor=approver, application=app)
    for app, _ in apps[2:]:  # the second waits for the city's review
        services.application_review(actor=city, application=app, note=Message("季度报表数据核对无误"))
    services.award_allocate(actor=province, scheme=scheme, year=2025)
    for app, _ in apps[2:6]:
        services.application_decide(actor=province, application=app, approve=True)
    for app, _ in apps[2:5]:
        services.application_publish(actor=province, application=app, on=dt.date(2026, 11, 20))
    services.application_pay(
        actor=province, application=apps[2][0], paid_on=dt.date(2026, 11, 30), reference="川财金〔2026〕88号"
    )
    return len(apps)
