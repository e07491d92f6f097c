"""Registry import: all or nothing, errors naming sheet/row/column, idempotent re-import, scope."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from core.models import AuditEvent
from institutions.demo import demo_credit_code
from institutions.excel import INSTITUTION_COLUMNS, LICENCE_COLUMNS, CellError, ImportFailed, registry_import
from institutions.models import Institution, Licence, Notice

pytestmark = pytest.mark.django_db

PARENT = demo_credit_code("510104", 7001)
BRANCH = demo_credit_code("510703", 7002)


def workbook(institutions, licences, *, english=False):
    """The import workbook with the template's Chinese sheet names and headers (English with `english`)."""
    pick = 2 if english else 1
    book = Workbook()
    ws = book.active
    ws.title = "Institutions" if english else "机构"
    ws.append([column[pick] for column in INSTITUTION_COLUMNS])
    for row in institutions:
        ws.append(row)
    lic = book.create_sheet("Licences" if english else "许可证")
    lic.append([column[pick] for column in LICENCE_COLUMNS])
    for row in licences:
        lic.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


GOOD_INSTITUTIONS = [
    [
        PARENT,
        "成都导入融资担保有限公司",
        "法人机构",
        None,
        "510104",
        "县级",
        "民营",
        30000,
        "30000.50",
        dt.date(2015, 3, 2),
        "张三",
        "成都市锦江区",
        "正常经营",
        "否",
        "是",
        25,
    ],
    [
        BRANCH,
        "成都导入融资担保有限公司绵阳分公司",
        "分支机构",
        PARENT,
        "510703",
        "县级",
        "民营",
        0,
        0,
        None,
        "",
        "",
        "",
        "",
        "",
        None,
    ],
]
GOOD_LICENCES = [
    ["川A300001", PARENT, "", dt.date(2016, 1, 5), "借款类担保", "有效", None],
    ["川A300002", BRANCH, "四川省地方金融监督管理局", "2017-02-01", "", "已注销", "2020-08-01"],
]


def test_import_creates_and_reimport_changes_nothing(users):
    data = workbook(GOOD_INSTITUTIONS, GOOD_LICENCES)
    result = registry_import(data, actor=users["sc_regulator"])
    assert (
        result.institutions_created,
        result.institutions_updated,
        result.licences_created,
        result.licences_updated,
    ) == (2, 0, 2, 0)
    branch = Institution.objects.get(credit_code=BRANCH)
    assert (branch.parent.credit_code, branch.kind, branch.region_id) == (PARENT, "branch", "510703")
    parent = Institution.objects.get(credit_code=PARENT)
    assert (
        str(parent.paid_in_capital),
        parent.ownership,
        parent.staff_count,
        parent.credit_reference_access,
    ) == ("30000.50", "private", 25, True)
    assert Licence.objects.get(number="川A300001").issuing_authority == "四川省地方金融监督管理局"
    cancelled = Licence.objects.get(number="川A300002")
    assert (cancelled.status, cancelled.cancelled_on) == ("cancelled", dt.date(2020, 8, 1))

    events = AuditEvent.objects.count()
    again = registry_import(data, actor=users["sc_regulator"])
    assert (
        again.institutions_created,
        again.institutions_updated,
        again.licences_created,
        again.licences_updated,
    ) == (0, 0, 0, 0)
    assert AuditEvent.objects.count() == events

    changed = [list(r) for r in GOOD_INSTITUTIONS]
    changed[0][15] = 30
    result = registry_import(workbook(changed, GOOD_LICENCES), actor=users["sc_regulator"])
    assert (result.institutions_created, result.institutions_updated) == (0, 1)
    assert Institution.objects.get(credit_code=PARENT).staff_count == 30


def test_a_status_change_with_its_day_enters_the_history_and_an_empty_day_keeps_it(users):
    from institutions.models import StatusChange

    registry_import(workbook(GOOD_INSTITUTIONS, GOOD_LICENCES), actor=users["sc_regulator"])
    rows = [list(r) for r in GOOD_INSTITUTIONS]
    rows[0][12] = "暂停业务"
    rows[0].append(dt.date(2025, 5, 10))  # the last column: the day the status took effect
    registry_import(workbook(rows, GOOD_LICENCES), actor=users["sc_regulator"])
    rows[0][12], rows[0][16] = (
        "Operating normally",
        "2025-08-20",
    )  # either language's label, an ISO date as text
    registry_import(workbook(rows, GOOD_LICENCES), actor=users["sc_regulator"])
    history = [("suspended", dt.date(2025, 5, 10)), ("operating", dt.date(2025, 8, 20))]
    assert (
        list(
            StatusChange.objects.filter(institution__credit_code=PARENT).values_list("status", "effective_on")
        )
        == history
    )
    rows[0][16] = None  # the day left empty: the one known stays
    again = registry_import(workbook(rows, GOOD_LICENCES), actor=users["sc_regulator"])
    assert (again.institutions_updated, Institution.objects.get(credit_code=PARENT).status_changed_on) == (
        0,
        dt.date(2025, 8, 20),
    )
    assert (
        list(
            StatusChange.objects.filter(institution__credit_code=PARENT).values_list("status", "effective_on")
        )
        == history
    )


def test_errors_name_sheet_row_column_and_nothing_is_stored(users):
    bad_institutions = [list(r) for r in GOOD_INSTITUTIONS] + [
        [
            PARENT[:-1] + ("0" if PARENT[-1] != "0" else "1"),
            "坏代码融资担保有限公司",
            "",
            None,
            "510104",
            "县级",
            "",
            1,
            1,
            None,
            "",
            "",
            "",
            "",
            "",
            None,
        ],
        [
            demo_credit_code("510104", 7003),
            "坏数融资担保有限公司",
            "",
            None,
            "519999",
            "镇级",
            "国企",
            "abc",
            1,
            "2020-13-01",
            "",
            "",
            "",
            "也许",
            "",
            None,
        ],
    ]
    bad_licences = [list(r) for r in GOOD_LICENCES] + [
        ["浙A1", PARENT, "", "2016-01-05", "", "", None],
        ["川A300001", PARENT, "", None, "", "", None],
    ]
    with pytest.raises(ImportFailed) as exc:
        registry_import(workbook(bad_institutions, bad_licences), actor=users["sc_regulator"])
    got = [(e.sheet, e.row, e.column, e.header) for e in exc.value.cells]
    assert got == [
        ("机构", 4, "A", "统一社会信用代码"),
        ("机构", 5, "E", "注册地代码"),
        ("机构", 5, "F", "机构层级"),
        ("机构", 5, "G", "所有制"),
        ("机构", 5, "H", "注册资本（万元）"),
        ("机构", 5, "J", "成立日期"),
        ("机构", 5, "N", "再担保机构"),
        ("许可证", 5, "A", "许可证编号"),
        ("许可证", 5, "D", "发证日期"),
    ]
    assert str(exc.value.cells[1]) == "工作表“机构”第5行E列（注册地代码）：未知的行政区划代码“519999”。"
    # the one application error: all cells by reference, for an API client
    assert (exc.value.code, exc.value.status) == ("invalid", 400)
    assert exc.value.message == "发现 9 处错误，未写入任何数据"
    assert list(exc.value.errors) == [
        "机构!A4",
        "机构!E5",
        "机构!F5",
        "机构!G5",
        "机构!H5",
        "机构!J5",
        "机构!N5",
        "许可证!A5",
        "许可证!D5",
    ]
    assert exc.value.errors["机构!E5"] == ["未知的行政区划代码“519999”。"]
    assert Institution.objects.filter(credit_code__in=[PARENT, BRANCH]).count() == 0
    assert Licence.objects.count() == 0


def test_licence_number_checked_at_write_keeps_all_or_nothing(users):
    licences = [list(r) for r in GOOD_LICENCES] + [["浙A1", PARENT, "", "2016-01-05", "", "", None]]
    with pytest.raises(ImportFailed) as exc:
        registry_import(workbook(GOOD_INSTITUTIONS, licences), actor=users["sc_regulator"])
    assert [(e.sheet, e.row, e.column) for e in exc.value.cells] == [("许可证", 4, "A")]
    assert exc.value.errors == {"许可证!A4": ["许可证编号“浙A1”不符合川的编号格式（首字应为“川”）。"]}
    assert not Institution.objects.filter(credit_code=PARENT).exists() and Licence.objects.count() == 0


def test_an_error_without_a_column_names_the_row() -> None:
    assert CellError("机构", 5, "—", "name", "名称已被占用。").reference == "机构!5:5"
    assert CellError("机构", 5, "B", "name", "名称已被占用。").reference == "机构!B5"


def test_city_regulator_cannot_import_outside_jurisdiction(users, mianyang_institution):
    rows = [
        list(GOOD_INSTITUTIONS[0]),
        [
            mianyang_institution.credit_code,
            "改名融资担保有限公司",
            "",
            None,
            "510104",
            "县级",
            "",
            1,
            1,
            None,
            "",
            "",
            "",
            "",
            "",
            None,
        ],
    ]
    rows.append(
        [
            demo_credit_code("510703", 7004),
            "绵阳新融资担保有限公司",
            "",
            None,
            "510703",
            "县级",
            "",
            1,
            1,
            None,
            "",
            "",
            "",
            "",
            "",
            None,
        ]
    )
    with pytest.raises(ImportFailed) as exc:
        registry_import(workbook(rows, []), actor=users["cd_regulator"])
    assert [(e.row, e.column, e.message) for e in exc.value.cells] == [
        (4, "E", "该地区不在您的辖区内。"),
        (3, "A", "无权修改该机构。"),
    ]
    mianyang_institution.refresh_from_db()
    assert mianyang_institution.name == "绵阳测试融资担保有限公司"


def test_import_page(users, client_for):
    client = client_for(users["sc_regulator"])
    assert client.get(reverse("institutions:import") + "?template=1")["Content-Type"].startswith(
        "application/vnd.openxml"
    )
    upload = io.BytesIO(workbook(GOOD_INSTITUTIONS, GOOD_LICENCES))
    upload.name = "registry.xlsx"
    page = client.post(reverse("institutions:import"), {"file": upload}).content.decode()
    assert "新增机构 2 家" in page
    bad = io.BytesIO(b"not a workbook")
    bad.name = "x.xlsx"
    assert (
        "这是文本文件（可能是改了扩展名的 CSV），不是 Excel（.xlsx）文件；请在 Excel 中另存为 .xlsx 后上传"
        in client.post(reverse("institutions:import"), {"file": bad}).content.decode()
    )
    for who, status in (("cd_filer", 403), ("sc_finance", 403)):
        assert client_for(users[who]).get(reverse("institutions:import")).status_code == status


# --- licence rows go through the licence services: same authority, same notice and duties -----------

REVOKED_ON, DECISION, REASON = dt.date(2025, 3, 1), "川金监罚〔2025〕1号", "违规经营"


def licence_row(licence, status, ended_on=None, reason="", decision_no=""):
    return [
        licence.number,
        licence.institution.credit_code,
        "",
        licence.issued_on,
        licence.business_scope,
        status,
        ended_on,
        reason,
        decision_no,
    ]


def test_licence_row_outside_the_city_is_refused_and_nothing_is_stored(users, registry_objects):
    """The Chengdu regulator revokes the Mianyang licence in an otherwise good file: refused at the
    row, and nothing of the workbook is stored (not even the good institution row)."""
    licence = registry_objects["my_licence"]
    notices = sorted(Notice.objects.values_list("pk", flat=True))
    events = AuditEvent.objects.count()
    rows = [licence_row(licence, "已吊销", REVOKED_ON, REASON, DECISION)]
    with pytest.raises(ImportFailed) as exc:
        registry_import(workbook([GOOD_INSTITUTIONS[0]], rows), actor=users["cd_regulator"])
    assert [(e.sheet, e.row, e.column, e.header, e.message) for e in exc.value.cells] == [
        (
            "许可证",
            2,
            "B",
            "统一社会信用代码",
            "无权管理该机构的许可证。",
        )
    ]
    licence.refresh_from_db()
    assert (licence.status, licence.revoked_on, licence.duties.count()) == ("valid", None, 0)
    assert not Institution.objects.filter(credit_code=PARENT).exists()
    assert sorted(Notice.objects.values_list("pk", flat=True)) == notices
    assert AuditEvent.objects.count() == events


def test_city_regulator_cannot_revoke_in_its_own_city_either(users, registry_objects):
    """Revocation is the provincial regulator's (条例 arts. 7, 8), through the import as on the page."""
    licence = registry_objects["cd_licence"]
    rows = [licence_row(licence, "已吊销", REVOKED_ON, REASON, DECISION)]
    with pytest.raises(ImportFailed) as exc:
        registry_import(workbook([], rows), actor=users["cd_regulator"])
    assert [(e.row, e.column, e.message) for e in exc.value.cells] == [
        (2, "B", "许可证由省级监管部门颁发、注销和吊销。")
    ]
    licence.refresh_from_db()
    assert (licence.status, licence.duties.count()) == ("valid", 0)


def test_revocation_through_the_import_is_the_licence_page_s(users, registry_objects, client_for):
    """The same revocation of two licences, one on the page and one in a workbook: the same draft notice
    (but for its holder) and the same five duties."""
    on_page, imported = registry_objects["cd_licence"], registry_objects["my_licence"]
    response = client_for(users["sc_regulator"]).post(
        reverse("institutions:licence_action", args=["revoke"]),
        {
            "ids": [on_page.pk],
            "decision_no": DECISION,
            "on": REVOKED_ON.isoformat(),
            "reason": REASON,
            "confirm": "1",
        },
    )
    assert response.status_code == 302
    result = registry_import(
        workbook([], [licence_row(imported, "已吊销", REVOKED_ON, REASON, DECISION)]),
        actor=users["sc_regulator"],
    )
    assert (result.licences_created, result.licences_updated) == (0, 1)

    def revocation(licence):
        licence.refresh_from_db()
        notice = Notice.objects.get(kind="revoke", items__licence=licence)
        return (
            (licence.status, licence.revoked_on, licence.revocation_decision_no, licence.revocation_reason),
            [(d.kind, d.due_on, d.note) for d in licence.duties.order_by("kind")],
            (
                notice.status,
                notice.region_id,
                notice.title,
                notice.issuing_body,
                notice.published_on,
                notice.document_no,
                notice.body,
            ),
            [(i.institution_name, i.licence_number) for i in notice.items.all()],
        )

    page_state, page_duties, page_notice, page_items = revocation(on_page)
    import_state, import_duties, import_notice, import_items = revocation(imported)
    assert page_state == import_state == ("revoked", REVOKED_ON, DECISION, REASON)
    assert len(page_duties) == 5 and import_duties == page_duties
    assert import_notice == page_notice and page_notice[0] == "draft"
    assert (page_items, import_items) == (
        [("成都测试融资担保有限公司", "川A100001")],
        [("绵阳测试融资担保有限公司", "川A100002")],
    )
    again = registry_import(
        workbook([], [licence_row(imported, "已吊销", REVOKED_ON, REASON, DECISION)]),
        actor=users["sc_regulator"],
    )
    assert (again.licences_updated, Notice.objects.filter(kind="revoke").count()) == (0, 2)


def test_import_refuses_what_the_licence_pages_cannot_do(users, registry_objects):
    """A cancellation needs its reason, as on the page; an ended licence does not come back to life."""
    licence = registry_objects["cd_licence"]
    with pytest.raises(ImportFailed) as exc:
        registry_import(
            workbook([], [licence_row(licence, "已注销", REVOKED_ON)]), actor=users["sc_regulator"]
        )
    assert [(e.row, e.column, e.header) for e in exc.value.cells] == [(2, "H", "注销或吊销原因")]
    registry_import(
        workbook([], [licence_row(licence, "已注销", REVOKED_ON, "根据公司申请")]),
        actor=users["sc_regulator"],
    )
    licence.refresh_from_db()
    assert (licence.status, licence.cancelled_on, licence.cancel_reason) == (
        "cancelled",
        REVOKED_ON,
        "根据公司申请",
    )
    with pytest.raises(ImportFailed) as exc:
        registry_import(workbook([], [licence_row(licence, "有效")]), actor=users["sc_regulator"])
    assert [(e.row, e.column, e.message) for e in exc.value.cells] == [
        (2, "F", "已注销或吊销的许可证不能再修改。")
    ]
    licence.refresh_from_db()
    assert licence.status == "cancelled"


def test_decimal_comma_and_a_year_421_are_refused_with_the_cell(users):
    """Through the one number parser: "1234,56" is not read as 123456; a date in the year 421 is a slip."""
    rows = [list(r) for r in GOOD_INSTITUTIONS]
    rows[0][7] = "1234,56"
    rows[0][9] = "0421-08-08"
    with pytest.raises(ImportFailed) as exc:
        registry_import(workbook(rows, GOOD_LICENCES), actor=users["sc_regulator"])
    assert [str(e) for e in exc.value.cells] == [
        "工作表“机构”第2行H列（注册资本（万元））：数值含义不明确：小数请用小数点“.”（如 1234.56），逗号只能作千位分隔符，"
        "收到“1234,56”",
        "工作表“机构”第2行J列（成立日期）：日期 0421-08-08 不合理，应在 1949-10-01 至 "
        f"{dt.date.today().year + 5}-12-31 之间",
    ]
    assert Institution.objects.filter(credit_code__in=[PARENT, BRANCH]).count() == 0


# --- the template in the reader's language; either language read back -------------------------------

ENGLISH_INSTITUTION_HEADERS = [
    "Unified social credit code",
    "Institution name",
    "Entity kind",
    "Parent credit code",
    "Registered region code",
    "Level",
    "Ownership",
    "Registered capital (10k yuan)",
    "Paid-in capital (10k yuan)",
    "Established on",
    "Legal representative",
    "Address",
    "Operating status",
    "Re-guarantee institution",
    "Connected to credit reference",
    "Staff count",
    "Status changed on",
]
ENGLISH_LICENCE_HEADERS = [
    "Licence number",
    "Unified social credit code",
    "Issuing authority",
    "Issued on",
    "Business scope",
    "Status",
    "Cancelled or revoked on",
    "Reason for cancellation or revocation",
    "Revocation decision number",
]
# GOOD_INSTITUTIONS and GOOD_LICENCES as an English reader fills them in
ENGLISH_WORDS = {"法人机构": "Legal entity", "分支机构": "branch", "县级": "County", "民营": "Private"}
ENGLISH_WORDS |= {
    "正常经营": "Operating normally",
    "是": "Yes",
    "否": "no",
    "有效": "Valid",
    "已注销": "Cancelled",
}


def in_english(rows):
    return [[ENGLISH_WORDS.get(v, v) if isinstance(v, str) else v for v in row] for row in rows]


def registry_state():
    institutions = Institution.objects.filter(credit_code__in=[PARENT, BRANCH]).order_by("credit_code")
    licences = Licence.objects.filter(number__in=["川A300001", "川A300002"]).order_by("number")
    return [
        [
            (i.credit_code, i.name, i.kind, i.parent.credit_code if i.parent else None, i.region_id, i.level)
            + (i.ownership, i.registered_capital, i.paid_in_capital, i.established_on, i.legal_representative)
            + (i.address, i.status, i.is_reguarantee, i.credit_reference_access, i.staff_count)
            for i in institutions
        ],
        [
            (
                lic.number,
                lic.institution.credit_code,
                lic.issuing_authority,
                lic.issued_on,
                lic.business_scope,
            )
            + (lic.status, lic.cancelled_on)
            for lic in licences
        ],
    ]


EXPECTED_REGISTRY = [
    [
        (PARENT, "成都导入融资担保有限公司", "legal_entity", None, "510104", "county", "private")
        + (Decimal("30000.00"), Decimal("30000.50"), dt.date(2015, 3, 2), "张三", "成都市锦江区", "operating")
        + (False, True, 25),
        (BRANCH, "成都导入融资担保有限公司绵阳分公司", "branch", PARENT, "510703", "county", "private")
        + (Decimal("0.00"), Decimal("0.00"), None, "", "", "operating", False, False, None),
    ],
    [
        ("川A300001", PARENT, "四川省地方金融监督管理局", dt.date(2016, 1, 5), "借款类担保", "valid", None),
        (
            "川A300002",
            BRANCH,
            "四川省地方金融监督管理局",
            dt.date(2017, 2, 1),
            "",
            "cancelled",
            dt.date(2020, 8, 1),
        ),
    ],
]


def template(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("institutions:import") + "?template=1")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def test_the_template_in_english_has_english_sheets_and_headers(users, client_for):
    client = client_for(users["sc_regulator"])
    book = template(client, "en")
    assert book.sheetnames == ["Institutions", "Licences"]
    assert [c.value for c in book["Institutions"][1]] == ENGLISH_INSTITUTION_HEADERS
    assert [c.value for c in book["Licences"][1]] == ENGLISH_LICENCE_HEADERS
    chinese = template(client, "zh-hans")
    assert chinese.sheetnames == ["机构", "许可证"]
    assert [c.value for c in chinese["许可证"][1]] == [column[1] for column in LICENCE_COLUMNS]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_filled_in_template_of_either_language_stores_exact_values(users, client_for, language):
    client = client_for(users["sc_regulator"])
    book = template(client, language)
    institutions, licences = book.worksheets
    english = language == "en"
    for row in in_english(GOOD_INSTITUTIONS) if english else GOOD_INSTITUTIONS:
        institutions.append(row)
    for row in in_english(GOOD_LICENCES) if english else GOOD_LICENCES:
        licences.append(row)
    upload = io.BytesIO()
    book.save(upload)
    upload.seek(0)
    upload.name = "registry.xlsx"
    page = client.post(reverse("institutions:import"), {"file": upload}).content.decode()
    assert ("2 institutions added" if english else "新增机构 2 家") in page
    assert registry_state() == EXPECTED_REGISTRY


def test_a_header_of_neither_language_is_named_with_its_cell_in_both(users):
    from django.utils import translation

    data = workbook(GOOD_INSTITUTIONS, GOOD_LICENCES, english=True)
    book = load_workbook(io.BytesIO(data))
    book["Institutions"]["L1"] = "Domicile"  # instead of "Address"
    out = io.BytesIO()
    book.save(out)
    for language, expected in (
        (
            "zh-hans",
            "工作表“Institutions”第1行L列（Domicile）：表头“Domicile”不是本模板的列（请使用下载的模板）",
        ),
        (
            "en",
            "Sheet “Institutions”, row 1, column L (Domicile): the header “Domicile” is not a column of the "
            "template (use the downloaded template)",
        ),
    ):
        with translation.override(language):
            with pytest.raises(ImportFailed) as exc:
                registry_import(out.getvalue(), actor=users["sc_regulator"])
            assert [str(cell) for cell in exc.value.cells] == [expected]
    assert not Institution.objects.filter(credit_code=PARENT).exists()
