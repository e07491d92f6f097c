"""Reference data every installation needs. Policy data: Sichuan licence settings (seed 003) and the registry / bank–guarantee agreement rules
(domain README, schemes.md §5). Rows, not code: authorised users edit them in the admin (audited)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

SICHUAN_SOURCE = "四川省地方金融监督管理局关于吊销部分融资担保机构融资担保业务经营许可证的公告（2020-09-29，seed 003）"

RULES = [
    # code, region, severity, value, text, effective_from, source
    ("name_keyword", None, "warning", None, "融资担保", "2017-10-01", "《融资担保公司监督管理条例》第六条"),
    ("paid_in_min", None, "breach", "2000", "", "2017-10-01", "《融资担保公司监督管理条例》第七条"),
    ("bank_share_min", None, "warning", "0.20", "", "2019-02-14", "国办发〔2019〕6号（原则上银行分担不低于20%）"),
    ("bank_share_min", "330300", "breach", "0.20", "", "2020-01-01", "温州市银担合作规定（seed 002）"),
    ("fund_share_min", None, "warning", "0.20", "", "2020-07-01", "国家融资担保基金再担保合作规定（seed 000）"),
    ("reguarantee_ge_fund", None, "warning", None, "", "2020-07-01", "国家融资担保基金再担保合作规定（seed 000）"),
    ("margin_max", "330300", "breach", "0", "", "2020-01-01", "温州市银担合作规定（seed 002）"),
    ("grace_min", "330300", "breach", "30", "", "2020-01-01", "温州市银担合作规定（seed 002）"),
    ("scope_required", "330300", "breach", None, "principal_interest", "2020-01-01", "温州市银担合作规定（seed 002）"),
    ("h2h_bank_share", None, "warning", "0.20", "", "2020-07-01", "总对总批量担保业务规定（银行20%/担保体系80%）"),
    ("h2h_single_client_max", None, "warning", "1000", "", "2020-07-01", "总对总批量担保业务规定（单户不超过1000万元）"),
    ("h2h_rate_cap_max", None, "warning", "0.03", "", "2020-07-01", "总对总批量担保业务规定（代偿率上限3%）"),
    ("change_filing_days", None, "breach", "30", "", "2017-10-01",
     "《融资担保公司监督管理条例》：变更持股5%以上股东或董事、监事、高级管理人员，自变更之日起30日内备案"),
    ("cross_province_capital_min", None, "breach", "100000", "", "2017-10-01",
     "《融资担保公司监督管理条例》第十条：跨省设立分支机构，注册资本不低于人民币10亿元"),
    ("agreement_reminder_days", None, "warning", "60", "", "2017-10-01", "监管工作安排：合作协议到期前60天提醒续签"),
]


def load(apps, schema_editor):
    Setting = apps.get_model("institutions", "ProvinceLicenceSetting")
    Rule = apps.get_model("institutions", "PolicyRule")
    Setting.objects.get_or_create(
        region_code="510000", effective_from=dt.date(2018, 4, 2),
        defaults=dict(
            abbreviation="川", number_pattern=r"^川[A-Z][0-9]{3,6}$",
            issuing_authority="四川省地方金融监督管理局",
            announce_days=5, return_days=15, market_regulator_days=30,
            reconsideration_days=60, lawsuit_months=6,
            reconsideration_body="四川省地方金融监督管理局", court="成都市锦江区人民法院",
            source=SICHUAN_SOURCE,
        ),
    )
    for code, region, severity, value, text, since, source in RULES:
        Rule.objects.get_or_create(
            code=code, region_code=region or "", effective_from=dt.date.fromisoformat(since),
            defaults=dict(severity=severity, value=Decimal(value) if value is not None else None,
                          text_value=text, source=source),
        )


def unload(apps, schema_editor):
    apps.get_model("institutions", "ProvinceLicenceSetting").objects.filter(region_code="510000").delete()
    apps.get_model("institutions", "PolicyRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("institutions", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
