"""The schemes every installation starts from (../shared/domain/schemes.md §1–3), each with its source.
Only what the documents say is seeded: a rate the bureau sets yearly (Liaocheng fee subsidy) or a pool
not published (the award) is left for the bureau to enter, and an application says it is missing."""

import datetime as dt

from django.db import migrations

BANAN = "重庆市巴南区《巴南区促进融资担保行业加快发展实施方案》（巴南府发〔2017〕30号）第七条"
LIAOCHENG = "聊城市人民政府办公室《关于推动政府性融资担保机构支持小微企业和“三农”发展的实施意见》（2023年3月29日）"
AWARD = (
    "财政部 工业和信息化部《关于对小微企业融资担保业务实施降费奖补政策的通知》（财建〔2018〕547号，"
    "财建〔2021〕106号延续）；四川省《关于做好2020年国家小微企业融资担保降费奖补资金申报兑付工作的通知》"
    "（川财金〔2020〕37号）；系数法：广东省2020年分配办法"
)

SCHEMES = [
    dict(
        code="banan-fee-subsidy",
        name="巴南区融资担保费补贴",
        kind="fee_subsidy",
        region_code="500113",
        effective_from=dt.date(2017, 7, 17),
        source=BANAN,
        params={
            "day_basis": 365,
            "institution_cap": None,
            "lines": [
                {
                    "key": "general",
                    "label": "一般线（费率≤2%，补贴0.5个百分点）",
                    "points": "0.005",
                    "fee_rate_max": "0.02",
                    "product_lines": ["general"],
                },
                {
                    "key": "rural",
                    "label": "农村线（费率≤1%，补贴1个百分点）",
                    "points": "0.01",
                    "fee_rate_max": "0.01",
                    "product_lines": ["rural_startup", "farmer_land_income"],
                },
            ],
        },
        publicity_days=7,
    ),
    dict(
        code="liaocheng-fee-subsidy",
        name="聊城市政府性融资担保业务担保费补贴",
        kind="fee_subsidy",
        region_code="371500",
        effective_from=dt.date(2023, 3, 29),
        source=LIAOCHENG + "第八条",
        params={
            "day_basis": 365,
            "institution_cap": None,
            "yearly_points": {},  # 补贴比例由市财政按年度设定
            "lines": [
                {
                    "key": "gov",
                    "label": "政府性融资担保业务（单户≤1000万元，年化费率≤1%）",
                    "points": None,
                    "fee_rate_max": "0.01",
                    "single_client_max": "1000",
                    "gov_backed_only": True,
                    "govlist_only": True,
                }
            ],
        },
        publicity_days=7,
    ),
    dict(
        code="sc-fee-reduction-award",
        name="国家小微企业融资担保降费奖补（四川省分配）",
        kind="award_pool",
        region_code="510000",
        effective_from=dt.date(2018, 1, 1),
        source=AWARD,
        params={
            "bands": [{"rate_max": "0.015", "coefficient": "1.5"}, {"rate_max": "0.02", "coefficient": "1.0"}],
        },
        publicity_days=7,
    ),
    dict(
        code="liaocheng-risk-compensation",
        name="聊城市市级担保机构风险补偿",
        kind="risk_compensation",
        region_code="371500",
        effective_from=dt.date(2023, 3, 29),
        source=LIAOCHENG + "第七条：代偿率小于1%、1%—3%、3%—5%、5%—8%(含)四档，分别按100%、80%、60%、50%补偿；超出8%的部分不予补偿",
        params={
            "method": "marginal",
            "gov_backed_only": True,
            "govlist_only": True,
            "bands": [
                {"upper": "0.01", "share": "1"},
                {"upper": "0.03", "share": "0.8"},
                {"upper": "0.05", "share": "0.6"},
                {"upper": "0.08", "share": "0.5", "upper_inclusive": True},
            ],
        },
        publicity_days=7,
    ),
]


def load(apps, schema_editor):
    Scheme = apps.get_model("subsidies", "Scheme")
    Revision = apps.get_model("subsidies", "SchemeRevision")
    for values in SCHEMES:
        values = dict(values)
        scheme, created = Scheme.objects.get_or_create(code=values.pop("code"), defaults=values)
        if created:
            Revision.objects.create(scheme=scheme, reason="初始数据（依据政策文件）", changes={})


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
