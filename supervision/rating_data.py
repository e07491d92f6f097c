"""The default classification-rating score sheet, marked unconfirmed: no official sheet is public. Items
follow 条例 art. 25 (scale, clients served, internal management and risk) plus filing behaviour and
supervisory measures; grades A ≥ 90 / B ≥ 75 / C ≥ 60 / D as provincial schemes use. The benefits of
grades A and B, and the measures for C and D, are Banan's (seed 001, 巴南府发〔2017〕30号 第十三条)."""

SOURCE = "平台默认评分表（未经监管部门确认）；参考《融资担保公司监督管理条例》第二十五条"
BANAN = "巴南府发〔2017〕30号 第十三条"

ITEMS = [
    # code, name, category, points, source, params, cap
    ("SCALE", "经营规模：年末净资产", "经营规模", 15, "net_assets",
     {"bands": [["100000", "1"], ["50000", "0.8"], ["20000", "0.6"], ["10000", "0.4"]]}, ""),
    ("CLIENTS", "服务对象：支小支农担保金额占比", "主要服务对象", 20, "indicator_band",
     {"indicator": "support_share_amount", "bands": [["0.8", "1"], ["0.6", "0.75"], ["0.5", "0.5"], ["0.3", "0.25"]]}, ""),
    ("LEVERAGE", "风险状况：放大倍数与集中度合规", "风险状况", 20, "breach_free",
     {"indicators": ["leverage", "single_client_concentration", "group_concentration"]}, ""),
    ("ASSETS", "风险状况：资产比例与准备金合规", "风险状况", 15, "breach_free",
     {"indicators": ["class12_asset_ratio", "class3_asset_ratio", "unearned_reserve_ratio", "compensation_reserve_ratio"]}, ""),
    ("FILING", "报送行为：按时、准确报送", "内部管理", 10, "filing", {"late": "3", "returned": "2", "amended": "1"}, ""),
    ("MEASURES", "监管措施与现场检查", "内部管理", 10, "measures", {"per_measure": "2", "overdue": "3", "per_finding": "1"}, ""),
    ("GOVERNANCE", "内部管理：公司治理与内控（人工评分）", "内部管理", 10, "manual", {"default": "8"}, ""),
    ("VETO-LEV", "否决项：年末放大倍数违规", "否决项", 0, "veto_breach", {"indicators": ["leverage"], "severity": "breach"}, "C"),
    ("VETO-SUSPEND", "否决项：被责令暂停部分业务", "否决项", 0, "veto_measure", {"types": ["suspend_business"]}, "D"),
]  # fmt: skip

BANDS = [
    # grade, minimum score, on-site inspection every N months, report frequency, measures / benefits
    ("A", "90", 36, "按季报送", f"在担保金额放大倍数、业务拓展、资金运用等方面给予政策倾斜（{BANAN}）"),
    ("B", "75", 24, "按季报送", f"在担保金额放大倍数、业务拓展、资金运用等方面给予政策倾斜（{BANAN}）"),
    ("C", "60", 12, "按月报送主要指标", f"采取监管约谈等监管措施，督促限期整改（{BANAN}）"),
    ("D", "0", 6, "按月报送", f"采取监管约谈、限制自有资金投资比例等监管措施，督促限期整改（{BANAN}）"),
]


def load_default_sheet(RatingSheet, RatingItem, GradeBand) -> int:
    sheet, created = RatingSheet.objects.get_or_create(
        region_code="",
        year_from=2020,
        defaults={
            "name": "分类评级默认评分表（未确认）",
            "confirmed": False,
            "source": SOURCE,
            "objection_days": 10,
        },
    )
    if not created:
        return 0
    for order, (code, name, category, points, source, params, cap) in enumerate(ITEMS, 1):
        RatingItem.objects.create(
            sheet=sheet, code=code, name=name, category=category, points=points, source=source,
            params=params, cap=cap, order=order,
        )  # fmt: skip
    for grade, minimum, months, frequency, benefits in BANDS:
        GradeBand.objects.create(
            sheet=sheet, grade=grade, min_score=minimum, inspection_every_months=months,
            report_frequency=frequency, benefits=benefits,
        )  # fmt: skip
    return 1
