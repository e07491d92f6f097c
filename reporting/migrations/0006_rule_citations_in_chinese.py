from django.db import migrations

# Version 1's rule citations mixed field codes and English into the Chinese interface; the rules file now
# has them in Chinese, and a database installed earlier gets the same texts here.
CITATIONS = {
    "规程 art. 13 报表完整性": "规程第十三条 报表完整性",
    "net_assets: must equal total_assets − total_liabilities": "净资产：应等于 资产总额 − 负债总额",
    "fin_balance: must equal fin_balance_opening + fin_new − fin_released": "融资担保在保余额：应等于 年初余额 + 本年新增 − 本年解除",
    "compensation_receivable: equals the compensation balance (累计代偿 − 累计收回 − 累计核销)": "应收代偿款：等于代偿余额（累计代偿 − 累计收回 − 累计核销）",
    "equity_in_guarantee_companies: part of equity_investments": "对其他融资担保和再担保公司股权投资：属于长期股权投资",
    "fin_fee_income: part of guarantee_fee_income": "融资担保费收入：属于担保费收入",
    "general_risk_reserve: part of net assets": "一般风险准备：属于净资产",
    "报表模板 v1 填报说明：分项不大于合计 (template v1 notes: sub-item ≤ total)": "报表模板第 1 版填报说明：分项不大于合计",
    "small_micro_agri_new: must be ≤ fin_new": "本年新增小微企业和“三农”融资担保额：应不大于本年累计新增融资担保额",
    "new_single_le5m: must be ≤ fin_new": "本年新增单户500万元及以下融资担保额：应不大于本年累计新增融资担保额",
    "new_single_le10m: must be ≥ new_single_le5m and ≤ fin_new": "本年新增单户1000万元及以下融资担保额：应不小于单户500万元及以下新增额，且不大于本年累计新增融资担保额",
    "bank_shared_balance: must be ≤ loan_balance": "银行参与分险的融资担保在保余额：应不大于借款类担保在保余额",
    "fin_inforce_clients: must be ≤ fin_inforce_count": "融资担保在保户数：应不大于融资担保在保笔数",
    "small_micro_agri_clients: must be ≤ fin_inforce_clients": "小微企业和“三农”在保户数：应不大于融资担保在保户数",
    "farmer_small_micro_clients: must be ≤ fin_inforce_clients": "小微企业和农户在保户数：应不大于融资担保在保户数",
    "small_micro_agri_new_clients: must be ≤ new_clients": "本年新增小微企业和“三农”户数：应不大于本年新增融资担保户数",
    "余额、发生额不为负（net_profit、net_assets 除外）": "余额、发生额不为负（净利润、净资产除外）",
    "条例 art. 17": "条例第十七条",
    "fin_balance_opening: must equal prior year's Q4 fin_balance": "年初融资担保在保余额：应等于上年第四季度的融资担保在保余额",
    "compensation_balance_opening (year_start basis) = prior year Q4 compensation balance": "年初代偿余额（年初口径）：应等于上年第四季度的代偿余额",
    "basis ytd: YTD flows never fall within a year": "本年累计口径：年内累计发生额不会减少",
    "basis cumulative": "累计口径",
    "规程 art. 13 异动情况": "规程第十三条 异动情况",
}


def chinese_citations(apps, schema_editor):
    ValidationRule = apps.get_model("reporting", "ValidationRule")
    for old, new in CITATIONS.items():
        ValidationRule.objects.filter(citation=old).update(citation=new)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0005_field_notes_in_two_languages")]

    operations = [migrations.RunPython(chinese_citations, migrations.RunPython.noop)]
