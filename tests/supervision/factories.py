"""Filings with submitted versions for indicator tests (the reporting engineer's factories may differ)."""

from decimal import Decimal

from django.utils import timezone

from reporting.models import Filing, FilingVersion, ReportTemplate

# A complete, hand-checked report (万元 / counts); see test_indicator_functions.py for the results.
BASE = {
    "total_assets": "50000",
    "compensation_receivable": "2000",
    "equity_in_guarantee_companies": "1000",
    "assets_class_1": "20000",
    "assets_class_2": "15000",
    "assets_class_3": "9600",
    "total_liabilities": "10000",
    "unearned_reserve": "500",
    "compensation_reserve": "2500",
    "net_assets": "40000",
    "guarantee_fee_income": "2000",
    "fin_fee_income": "1800",
    "extra_charges": "0",
    "fin_new": "100000",
    "fin_released": "40000",
    "fin_balance": "260000",
    "loan_balance": "200000",
    "loan_small_micro_le5m": "80000",
    "loan_farmer_le2m": "20000",
    "loan_housing": "10000",
    "bond_balance": "50000",
    "bond_aa_balance": "40000",
    "other_fin_balance": "10000",
    "fin_liability_reported": "220000.30",
    "fin_inforce_clients": "1000",
    "farmer_small_micro_balance": "140000",
    "farmer_small_micro_clients": "850",
    "small_micro_agri_clients": "900",
    "small_micro_agri_new": "85000",
    "new_single_le5m": "60000",
    "new_single_le10m": "75000",
    "new_clients": "300",
    "small_micro_agri_new_clients": "270",
    "annualized_new_amount": "90000",
    "annualized_new_amount_le5m": "50000",
    "fee_new_le5m": "400",
    "annualized_new_amount_gt5m": "40000",
    "fee_new_gt5m": "600",
    "compensation": "800",
    "compensation_balance_opening": "1700",
    "recovery": "300",
    "compensation_cumulative": "5000",
    "released_cumulative": "400000",
    "top1_client_liability": "3000",
    "top1_group_liability": "5000",
    "controller_guarantee_balance": "0",
    "bank_shared_balance": "50000",
    "bank_risk_amount": "12000",
}
HIGH_CONCENTRATION = {"top1_client_liability": "4400"}  # 11% of net assets 40000 > 10% (CON-01)


def decimals(values: dict) -> dict:
    return {k: Decimal(v) for k, v in values.items()}


def make_filing(institution, year, quarter, *, submitted=True, status="submitted", **overrides) -> Filing:
    values = {**BASE, **{k: str(v) for k, v in overrides.items()}}
    filing = Filing.objects.create(
        institution=institution,
        year=year,
        quarter=quarter,
        template=ReportTemplate.objects.get(version=1),
        status=status if submitted else "draft",
    )
    version = FilingVersion.objects.create(
        filing=filing, number=1, values=values, submitted_at=timezone.now() if submitted else None
    )
    filing.current_version = version
    filing.save(update_fields=["current_version"])
    return filing


def amend(filing, **overrides) -> Filing:
    """A new submitted version replacing the current one."""
    values = {**filing.current_version.values, **{k: str(v) for k, v in overrides.items()}}
    version = FilingVersion.objects.create(
        filing=filing, number=filing.current_version.number + 1, values=values, submitted_at=timezone.now()
    )
    filing.current_version = version
    filing.save(update_fields=["current_version"])
    return filing
