"""Reference data every installation starts from, each row with its source; authorised users edit them
in the admin (audited).

Product lines: the two rural lines Banan subsidises at a lower fee cap (巴南府发〔2017〕30号, seed 001)
beside the general line and "other". Magnitude rules: the portal's own data-quality checks (not policy
limits) that ask the filer to confirm a value far above what a loan guarantee normally is."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

BANAN = "重庆市巴南区《巴南区促进融资担保行业加快发展实施方案》（巴南府发〔2017〕30号）第七条"
PRODUCT_LINES = [
    # code, name_zh, name_en, source, ordering
    ("general", "一般借款担保", "General loan guarantees",
     BANAN + "：本区域中小微企业贷款担保，费率不超过2%的补贴0.5个百分点", 10),
    ("rural_startup", "农村地区微型企业创业扶持贷款", "Rural micro-enterprise start-up support loans",
     BANAN + "：不高于1%收取担保费的，补贴1个百分点", 20),
    ("farmer_land_income", "农户土地收益保证贷款", "Farm-household land-income guarantee loans",
     BANAN + "：不高于1%收取担保费的，补贴1个百分点", 30),
    ("other", "其他", "Other", "平台分类：不属于以上品种的借款担保", 90),
]
MONEY_CHECK = ("平台数据质量核对（非政策限额）：单笔超过1亿元（10000万元）的借款担保极少见，"
               "多为按元填报；参照单一客户责任余额不超过净资产10%（《融资担保公司监督管理条例》第十六条）")
MAGNITUDE_RULES = [
    # column, limit, source (nationwide rows: a region may add its own)
    ("guaranteed_amount", "10000", MONEY_CHECK),
    ("loan_amount", "10000", MONEY_CHECK),
    ("fee_amount", "1000", "平台数据质量核对（非政策限额）：单笔担保费超过1000万元多为按元填报"),
    ("fee_rate", "0.10", "平台数据质量核对（非政策限额）：年化担保费率超过10%多为按百分数填报"
     "（政府性融资担保费率上限1%–1.5%，财金〔2025〕11号）"),
    ("amount", "10000", MONEY_CHECK),  # events
]
SINCE = dt.date(2017, 10, 1)  # 《融资担保公司监督管理条例》施行


def load(apps, schema_editor):
    ProductLine = apps.get_model("guarantees", "ProductLine")
    MagnitudeRule = apps.get_model("guarantees", "MagnitudeRule")
    for code, name_zh, name_en, source, ordering in PRODUCT_LINES:
        ProductLine.objects.get_or_create(
            code=code, defaults=dict(name_zh=name_zh, name_en=name_en, source=source, ordering=ordering)
        )
    for column, limit, source in MAGNITUDE_RULES:
        MagnitudeRule.objects.get_or_create(
            column=column, region_code="", effective_from=SINCE, defaults=dict(limit=Decimal(limit), source=source)
        )


def unload(apps, schema_editor):
    apps.get_model("guarantees", "ProductLine").objects.filter(code__in=[p[0] for p in PRODUCT_LINES]).delete()
    apps.get_model("guarantees", "MagnitudeRule").objects.filter(effective_from=SINCE).delete()


class Migration(migrations.Migration):
    dependencies = [("guarantees", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
