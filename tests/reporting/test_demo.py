from collections import Counter
from decimal import Decimal

from accounts import demo as accounts_demo
from institutions import demo as institutions_demo
from reporting import demo, services, validation
from reporting.models import Filing, FilingVersion
from reporting.periods import Period
from supervision import demo as supervision_demo


def test_series_is_deterministic_and_rolls_forward(db):
    liability_on = supervision_demo.liability_on()
    a = demo.series("X1", Decimal(30000), liability_on=liability_on)
    assert a == demo.series("X1", Decimal(30000), liability_on=liability_on)
    assert a != demo.series("X2", Decimal(30000), liability_on=liability_on)
    periods = demo.demo_periods()
    assert (str(periods[0]), str(periods[-1]), len(periods)) == ("2024Q4", "2026Q3", 8)
    assert [str(p) for p in demo.HISTORY] == ["2024Q1", "2024Q2", "2024Q3"]
    for p in periods:
        v = {k: Decimal(x) for k, x in a[p].items()}
        assert v["fin_balance"] == v["fin_balance_opening"] + v["fin_new"] - v["fin_released"]
        assert v["net_assets"] == v["total_assets"] - v["total_liabilities"]
        assert (
            v["compensation_receivable"]
            == v["compensation_balance_opening"] + v["compensation"] - v["recovery"] - v["loss_writeoff"]
        )
    assert a[Period(2025, 1)]["fin_balance_opening"] == a[Period(2024, 4)]["fin_balance"]
    assert a[Period(2026, 1)]["fin_balance_opening"] == a[Period(2025, 4)]["fin_balance"]


def test_seed_all_institutions_consistent_rerunnable(db):
    registry = institutions_demo.seed()
    accounts_demo.seed({i.name: i for i in registry})
    institutions = demo.filers(registry)  # as seed_demo does: the notice companies' licences ended in 2020
    assert len(institutions) == 88 and not {i.name for i in institutions} & {
        i.name for i in institutions_demo.seed_licence_notices()
    }
    stats = demo.seed(
        institutions,
        liability_on=supervision_demo.liability_on(),
        before_replace=supervision_demo.forget_runs,
    )
    assert stats == {
        "filings": 961,  # 88 × 11 quarters (2024Q1–2026Q3) less 7 missing
        "versions": 967,
        "late": stats["late"],
        "missing": 7,
        "nil": 6,
        "returned": 6,
        "amended": 3,
    }
    assert 55 <= stats["late"] <= 150  # about one in ten of 961
    assert Filing.objects.values("institution").distinct().count() == 88
    status = Counter(Filing.objects.filter(year=2026, quarter=3).values_list("status", flat=True))
    assert status == {"accepted": 66, "submitted": 13, "returned": 3, "draft": 2}
    hashes = dict(
        FilingVersion.objects.values_list("filing__institution__credit_code", "values_hash").order_by("pk")[
            :50
        ]
    )
    # every submitted version passes the blocking rules against the stored previous filings
    for f in Filing.objects.filter(year=2026, quarter=2).select_related("current_version")[:30]:
        findings, _rs = services.check(
            institution_id=f.institution_id,
            period=f.period,
            values=f.current_version.values,
            nil_return=f.current_version.nil_return,
        )
        assert validation.blocking(findings) == []
        assert f.current_version.values_hash == f.current_version.compute_hash()
    leverage = []
    for v in FilingVersion.objects.filter(filing__year=2026, filing__quarter=2, nil_return=False):
        leverage.append(Decimal(v.values["fin_balance"]) / Decimal(v.values["net_assets"]))
    assert min(leverage) < Decimal("1.5") and max(leverage) > 10 and sum(1 for x in leverage if x > 10) == 4
    from core.audit import history
    from core.stored_text import show

    amended = Filing.objects.filter(
        current_version__number=2, current_version__reason="补录遗漏的非融资担保业务"
    ).get()
    notes = [show(e.note) for e in history(amended)]
    assert (
        len(notes) == 1
        and notes[0].startswith("演示数据导入：第1版报送于")
        and "（更正原因：补录遗漏的非融资担保业务）" in notes[0]
    )
    stats2 = demo.seed(
        institutions,
        liability_on=supervision_demo.liability_on(),
        before_replace=supervision_demo.forget_runs,
    )
    assert stats2 == stats
    assert (
        dict(
            FilingVersion.objects.values_list("filing__institution__credit_code", "values_hash").order_by(
                "pk"
            )[:50]
        )
        == hashes
    )
