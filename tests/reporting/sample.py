"""A hand-computed, internally consistent quarterly report (万元) that passes every rule of ruleset v1."""

GOOD_Q2 = {
    "total_assets": "50000", "monetary_funds": "20000", "margin_deposits_paid": "5000",
    "compensation_receivable": "800", "equity_investments": "3000", "equity_in_guarantee_companies": "1000",
    "entrusted_loans": "0", "assets_class_1": "25000", "assets_class_2": "12000", "assets_class_3": "8000",
    "total_liabilities": "15000", "margin_deposits_received": "3000", "unearned_reserve": "2000",
    "compensation_reserve": "4000", "net_assets": "35000", "paid_in_capital": "30000", "general_risk_reserve": "1500",
    "operating_income": "1200", "guarantee_fee_income": "1000", "fin_fee_income": "900", "extra_charges": "0",
    "net_profit": "300", "compensation_reserve_provision": "200",
    "fin_balance_opening": "200000", "fin_new": "120000", "fin_released": "100000", "fin_balance": "220000",
    "loan_balance": "180000", "loan_small_micro_le5m": "90000", "loan_farmer_le2m": "20000", "loan_housing": "5000",
    "bond_balance": "30000", "bond_aa_balance": "30000", "other_fin_balance": "10000", "nonfin_balance": "40000",
    "nonfin_new": "25000", "fin_liability_reported": "190000", "fin_inforce_count": "1500", "fin_inforce_clients": "1200",
    "small_micro_balance": "150000", "agri_balance": "40000", "small_micro_agri_clients": "1000",
    "farmer_small_micro_balance": "160000", "farmer_small_micro_clients": "1050", "small_micro_agri_new": "90000",
    "new_single_le5m": "70000", "new_single_le10m": "95000", "new_clients": "600", "small_micro_agri_new_clients": "500",
    "first_loan_clients": "80", "annualized_new_amount": "100000", "annualized_new_amount_le5m": "60000",
    "fee_new_le5m": "600", "annualized_new_amount_gt5m": "40000", "fee_new_gt5m": "500",
    "compensation": "500", "compensation_count": "12", "compensation_balance_opening": "600", "recovery": "200",
    "loss_writeoff": "100", "compensation_cumulative": "5000", "released_cumulative": "900000",
    "overdue_uncompensated": "0", "top1_client_liability": "3000", "top1_group_liability": "4500",
    "top10_clients_liability": "20000", "related_party_balance": "0", "controller_guarantee_balance": "0",
    "partner_banks": "15", "bank_credit_line": "500000", "bank_shared_balance": "100000", "bank_risk_amount": "20000",
    "reguarantee_balance": "50000", "batch_zdz_balance": "30000", "staff_count": "40",
}

# Q1 of the same year: YTD flows half of Q2, balances close to Q2 (no large change).
GOOD_Q1 = {
    **GOOD_Q2,
    "fin_new": "60000", "fin_released": "50000", "fin_balance": "210000",
    "operating_income": "600", "guarantee_fee_income": "500", "fin_fee_income": "450",
    "compensation_reserve_provision": "100", "nonfin_new": "12000", "small_micro_agri_new": "45000",
    "new_single_le5m": "35000", "new_single_le10m": "47000", "new_clients": "300", "small_micro_agri_new_clients": "250",
    "first_loan_clients": "40", "annualized_new_amount": "50000", "compensation": "250", "compensation_count": "6",
    "recovery": "100", "loss_writeoff": "50", "compensation_receivable": "700", "compensation_cumulative": "4750",
    "released_cumulative": "850000",
}

# Prior year Q4: closing balances equal GOOD_Q2's openings.
PRIOR_Q4 = {**GOOD_Q2, "fin_balance": "200000", "fin_new": "100000", "compensation_receivable": "600",
            "compensation_balance_opening": "400", "compensation_cumulative": "4500",
            "released_cumulative": "800000"}
