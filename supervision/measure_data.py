"""The supervisory-measure catalogue (规程 art. 28, seed 003) as data: loaded by migration 0004 and
editable afterwards (admin). Default deadlines and approving levels are the portal's defaults, not
national rules: a province changes them; measures restricting business (suspension, limits on own
funds, no new branches) need the provincial regulator, as 条例 art. 30 gives them to it."""

SOURCE = "《融资担保公司非现场监管规程》第二十八条"

DEFAULT_TEMPLATE = (
    "{{机构}}：\n"
    "经非现场监管分析，你公司存在以下问题：\n{{事由}}\n"
    "根据{{依据}}，现决定对你公司采取{{措施}}措施，具体要求如下：\n{{要求}}\n"
    "请于{{期限}}前通过监管服务平台报送整改方案及相关证明材料。\n"
    "{{机关}}\n{{日期}}"
)

# code, name, English name, default days, approving level, publishable, on-site
MEASURE_TYPES = [
    ("inquiry", "询问", "Inquiry", 15, "city", False, False),
    ("higher_frequency", "提高信息报送频率", "Higher reporting frequency", 30, "city", False, False),
    ("self_inspection", "督促开展自查", "Self-inspection", 30, "city", False, False),
    ("risk_staff", "要求充实风险管理力量", "Strengthen risk management staff", 60, "city", False, False),
    ("risk_warning", "风险提示和通报", "Risk warning and circular", 30, "city", True, False),
    ("talk", "监管谈话（约谈）", "Supervisory talk", 15, "city", False, False),
    ("onsite", "现场检查", "On-site inspection", 60, "city", False, True),
    (
        "suspend_business",
        "责令暂停部分业务",
        "Suspension of part of the business",
        90,
        "province",
        True,
        False,
    ),
    (
        "limit_own_funds",
        "限制自有资金运用的规模和方式",
        "Limits on own-fund use",
        90,
        "province",
        False,
        False,
    ),
    ("no_new_branches", "责令停止新设分支机构", "No new branches", 90, "province", False, False),
]


def load_measure_types(MeasureType) -> int:
    created = 0
    for order, (code, name, name_en, days, level, publishable, onsite) in enumerate(MEASURE_TYPES, 1):
        _obj, was_created = MeasureType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "order": order,
                "default_days": days,
                "approval_level": level,
                "publishable": publishable,
                "onsite": onsite,
                "template": DEFAULT_TEMPLATE,
                "source": SOURCE,
            },
        )
        created += was_created
    return created
