"""Demo: the policy set (thresholds and parameters, idempotent) and indicators for every submitted or
accepted filing present (the filings demo creates them)."""

import datetime as dt

from core.stored_text import Message

from . import indicators as ind
from .models import IndicatorRun, PolicyParameter, Threshold
from .policy_data import load_policy_data
from .services.compute import Policy, counted_filings, indicators_compute_batch


def liability_on(policy: Policy | None = None):
    """The weighted liability balance under the parameters in force on a day, as the demo filings report
    it: `reporting.demo.series(..., liability_on=liability_on())`."""
    policy = policy or Policy()
    return lambda values, day: ind.fin_liability_balance(values, policy.params(day))


def forget_runs(filings) -> None:
    """Indicator runs keep their version (PROTECT, for lineage): drop them before the demo rebuilds
    these filings; `seed` recomputes them afterwards."""
    IndicatorRun.objects.filter(filing__in=filings).delete()


def seed() -> dict:
    thresholds, parameters = load_policy_data(Threshold, PolicyParameter)
    institution_ids = sorted(set(counted_filings().values_list("institution_id", flat=True)))
    filings = len(indicators_compute_batch(institution_ids=institution_ids))
    result = {
        "thresholds_created": thresholds,
        "parameters_created": parameters,
        "institutions": len(institution_ids),
        "filings": filings,
    }
    work = seed_work()  # needs the demo logins; nothing without them
    if work.get("measures"):
        result["work"] = work
    return result


def seed_work() -> dict:
    """Cases worked, measures in every state, an on-site inspection and a non-filers draft, so every demo
    regulator and company login has work waiting. Runs once: a database that already holds measures is
    left as it is."""
    from accounts.models import User
    from institutions.models import Institution
    from reporting.periods import Period

    from .models import Measure, MeasureType, NonFilerList, WarningCase, WarningStatus
    from .services import cases as case_svc
    from .services import measures as svc

    if Measure.objects.exists():
        return {"measures": Measure.objects.count()}
    users = {
        u.username: u for u in User.objects.filter(username__in=["admin", "sc_regulator", "cd_regulator"])
    }
    companies = {u.username: u for u in User.objects.filter(username__in=["cdzx_filer", "mykf_filer"])}
    if len(users) < 3 or len(companies) < 2:
        return {"measures": 0}
    sc, cd, admin = users["sc_regulator"], users["cd_regulator"], users["admin"]
    cdzx = Institution.objects.get(name="成都中小企业融资担保有限责任公司")
    mykf = Institution.objects.get(name="绵阳科发融资担保有限公司")
    types = {t.code: t for t in MeasureType.objects.all()}

    def propose(inst, code, by, facts, case=None):
        return svc.measure_propose(
            actor=by, institution=inst, measure_type=types[code], facts=facts, case=case
        )

    def issued(inst, code, by, facts, case=None, approver=None):
        m = propose(inst, code, by, facts, case)
        svc.measure_approve(actor=approver or (sc if by == cd else admin), measure=m, note=Message("同意"))
        return svc.measure_issue(actor=by, measure=m)

    cd_case = (
        WarningCase.objects.filter(institution=cdzx)
        .exclude(status=WarningStatus.CLOSED)
        .order_by("-level")
        .first()
    )
    # Chengdu: a talk from its warning case waiting for the company; an answered inquiry to review; a
    # closed self-inspection; a risk warning waiting for approval
    issued(cdzx, "talk", cd, "风险预警持续触发，拟进行监管谈话。", case=cd_case)
    answered = issued(cdzx, "inquiry", cd, "请说明代偿率上升的原因。")
    svc.measure_answer(
        actor=companies["cdzx_filer"], measure=answered, text="代偿率上升系两笔大额代偿所致，已启动追偿。"
    )
    done = issued(cdzx, "self_inspection", cd, "请对担保业务合规性开展自查。")
    svc.measure_answer(actor=companies["cdzx_filer"], measure=done, text="已完成自查，报告见附件。")
    svc.measure_close(actor=cd, measure=done, conclusion=Message("自查报告完整，问题已整改。"))
    propose(cdzx, "risk_warning", cd, "集中度指标接近上限，拟作风险提示。")
    rejected = propose(cdzx, "limit_own_funds", cd, "拟限制自有资金运用。")
    svc.measure_reject(actor=sc, measure=rejected, note=Message("依据不足，先行约谈。"))
    # Mianyang: a higher reporting frequency sent back for more; an on-site inspection with findings; an
    # approved measure not yet issued; a suspension waiting for the province; an escalated inquiry
    more = issued(mykf, "higher_frequency", sc, "请按月报送主要监管指标。")
    svc.measure_answer(actor=companies["mykf_filer"], measure=more, text="自下月起按月报送。")
    svc.measure_request_more(actor=sc, measure=more, text=Message("请补充报送联系人和报送时间表。"))
    onsite = issued(mykf, "onsite", sc, "拟对公司开展现场检查。")
    svc.measure_acknowledge(actor=companies["mykf_filer"], measure=onsite)
    today = dt.date.today()
    inspection = svc.inspection_create(
        actor=sc,
        measure=onsite,
        scope="2025年度担保业务合规性、准备金计提和关联交易",
        team="王监管、李检查",
        start_date=today - dt.timedelta(days=10),
        end_date=today - dt.timedelta(days=6),
    )
    svc.inspection_add_finding(
        actor=sc,
        inspection=inspection,
        text="未足额提取未到期责任准备金",
        measure_type=types["self_inspection"],
    )
    svc.inspection_add_finding(actor=sc, inspection=inspection, text="关联交易未按规定披露")
    svc.inspection_report(actor=sc, inspection=inspection, report="检查发现两项问题，已提出整改措施。")
    approved = propose(mykf, "risk_staff", sc, "风险管理人员不足。")
    svc.measure_approve(actor=admin, measure=approved)
    propose(mykf, "suspend_business", sc, "风险严重，拟责令暂停新增担保业务。")
    first = issued(mykf, "inquiry", sc, "请说明未按时报送的原因。")
    svc.measure_escalate(
        actor=sc, measure=first, measure_type=types["talk"], facts=Message("询问后仍未答复，升级为约谈。")
    )
    # warning cases: one closed with a reason, the rest of Chengdu's handed to the city regulator
    closable = WarningCase.objects.filter(institution=cdzx).exclude(status=WarningStatus.CLOSED)
    if cd_case is not None:
        closable = closable.exclude(pk=cd_case.pk)
    one = closable.first()
    if one is not None:
        case_svc.warning_case_close(
            actor=cd, case=one, note=Message("已发出风险提示，企业已说明情况。"), reason="explained"
        )
    period = Period.containing(today).previous()
    svc.nonfilers_draft(actor=sc, period=period, measure_type=types["inquiry"])
    ratings = seed_ratings(sc=sc, cd=cd, admin=admin, keep_open=cdzx)
    return {
        "ratings": ratings,
        "measures": Measure.objects.count(),
        "nonfiler_lists": NonFilerList.objects.count(),
        "open_cases": WarningCase.objects.exclude(status=WarningStatus.CLOSED).count(),
    }


def seed_ratings(*, sc, cd, admin, keep_open) -> int:
    """The last full year's ratings: drafted by the province, one item adjusted by the city with a
    reason, confirmed by a second regulator, published — all but one company's, still in its objection
    period."""
    from django.utils import timezone

    from .models import IndicatorRun, Rating
    from .services import ratings as rating_svc

    year = IndicatorRun.objects.filter(quarter=4).order_by("-year").values_list("year", flat=True).first()
    if year is None:
        return 0
    rating_svc.ratings_draft(actor=sc, year=year)
    rating = Rating.objects.filter(year=year, institution=keep_open).first()
    if rating is not None:
        score = rating.scores.get(item__code="GOVERNANCE")
        rating_svc.rating_adjust(
            actor=cd,
            score=score,
            value=score.item.points,
            reason=Message("现场检查确认内控制度健全、执行有效"),
        )
    for r in Rating.objects.filter(year=year, status="draft"):
        rating_svc.rating_confirm(actor=admin, rating=r)
    # the objection period of every other company has run out (demo time)
    Rating.objects.filter(year=year).exclude(institution=keep_open).update(
        objection_until=timezone.localdate() - dt.timedelta(days=1)
    )
    rating_svc.ratings_publish(actor=sc, year=year)
    return Rating.objects.filter(year=year).count()
