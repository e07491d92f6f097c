"""Demo logins, one per role (printed by `seed_demo`)."""

from core.roles import Role

from .models import User

DEMO_PASSWORD = "Danbao@2026"

# username, family name, given name, role, region code or institution name
DEMO_USERS = [
    ("admin", "系统", "管理员", Role.ADMIN, None, None),
    ("sc_regulator", "王", "监管", Role.REGULATOR, "510000", None),
    ("cd_regulator", "李", "监管", Role.REGULATOR, "510100", None),
    ("sc_finance", "张", "财政", Role.FINANCE, "510000", None),
    ("cd_finance", "刘", "财政", Role.FINANCE, "510100", None),
    ("cdzx_filer", "陈", "填报", Role.FILER, None, "成都中小企业融资担保有限责任公司"),
    ("cdzx_approver", "杨", "审核", Role.APPROVER, None, "成都中小企业融资担保有限责任公司"),
    ("mykf_filer", "赵", "填报", Role.FILER, None, "绵阳科发融资担保有限公司"),
    ("mykf_approver", "黄", "审核", Role.APPROVER, None, "绵阳科发融资担保有限公司"),
]


def seed(institutions_by_name: dict) -> list[tuple[User, str]]:
    users = []
    for username, last, first, role, region, institution_name in DEMO_USERS:
        user, created = User.objects.update_or_create(
            username=username,
            defaults={
                "last_name": last,
                "first_name": first,
                "role": role,
                "region_id": region,
                "institution": institutions_by_name.get(institution_name) if institution_name else None,
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
                "email": f"{username}@demo.invalid",
            },
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users.append((user, institution_name or (user.region.full_name if user.region_id else "全国")))
    return users
