"""One language per message: the reader's. Messages are Chinese source strings through gettext with
English in locale/en; nothing shows "中文 / English" side by side any more (issue 15)."""

import ast
import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from core.excel import UploadRejected, read_upload
from core.parsing import BadValue, parse_decimal
from core.templatetags.portal import localized
from reporting import excel
from reporting.models import FieldDefinition, ValidationRule
from reporting.periods import Period

ROOT = Path(settings.BASE_DIR)
SKIPPED_DIRS = {".venv", "node_modules", "var", "static", "__pycache__"}

CJK = "\u4e00-\u9fff"
# "无权执行该操作 / not allowed", and the older "无权执行该操作。 (Not allowed.)" (with or without the space)
MIXED = re.compile(rf"[{CJK}][^\n]{{0,80}}? ?/ [A-Za-z]|[{CJK}。，）] *\([A-Z][a-z]+[ .;:,)]")
# the same put together from two values: f"{p.zh} / {p.en}", f"{e.message_zh} / {e.message_en}"
JOINED = re.compile(r"zh\}\s*(/|。\()\s*\{[^{}\n]*en\}")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

Q2 = Period(2025, 2)


def project_files(suffix: str) -> list[Path]:
    return [
        p
        for p in ROOT.rglob(f"*{suffix}")
        if not SKIPPED_DIRS.intersection(p.relative_to(ROOT).parts)
        and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    ]


def mixed_strings(source: str) -> list[tuple[int, str]]:
    """String literals (f-strings with their values as {}) that put Chinese and English side by side;
    docstrings are for programmers and are left out."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in parts:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if MIXED.search(text):
            found.append((node.lineno, text[:100]))
    return found


def test_the_detector_sees_both_old_forms() -> None:
    zh = "无权执行该操作"
    assert mixed_strings(f"x = {zh + ' / not allowed'!r}") == [(1, zh + " / not allowed")]
    older = zh + "。" + " (Not allowed.)"
    assert mixed_strings(f"x = {older!r}") == [(1, older)]
    unspaced = zh + "。" + "(Not allowed.)"
    assert mixed_strings(f"x = {unspaced!r}") == [(1, unspaced)]
    slash = "须由审核人报送（填报人编制）" + "/ only the approver may submit"
    assert mixed_strings(f"x = {slash!r}") == [(1, slash)]
    assert mixed_strings('x = f"已测算 {done} / {total} 份报表"') == []  # a ratio, not two languages
    assert mixed_strings(f'def f():\n    """{zh} / docstring"""\n') == []
    assert JOINED.search('f"{p.zh} / {p.en}"') and JOINED.search('f"{exc.zh}。({exc.en}.)"')
    assert not JOINED.search('f"{done} / {total}"')


# Fixtures of text stored before messages had one language (the filter that reads it is tested there).
STORED_BEFORE = {"test_templatetags.py"}


def test_no_python_source_puts_two_languages_in_one_string() -> None:
    files = [p for p in project_files(".py") if p.name not in STORED_BEFORE]
    assert len(files) > 300  # the scan sees the project
    found = {
        f"{path.relative_to(ROOT)}:{line}": text
        for path in files
        for line, text in mixed_strings(path.read_text(encoding="utf-8"))
    }
    joined = {
        f"{path.relative_to(ROOT)}:{n}": line.strip()
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if JOINED.search(line) and path.name != "test_languages.py"
    }
    assert (found, joined) == ({}, {})


def test_no_template_puts_two_languages_in_one_text() -> None:
    files = project_files(".html")
    assert len(files) > 100
    found = {
        f"{path.relative_to(ROOT)}:{n}": line.strip()[:100]
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if MIXED.search(line)
    }
    assert found == {}


# ---------------------------------------------------------------------------------------------- the API
@pytest.mark.django_db
def test_api_error_in_chinese_by_default_and_in_english_when_asked(users, chengdu_institution) -> None:
    client = APIClient()
    client.force_authenticate(users["cd_regulator"])
    draft = {
        "institution": chengdu_institution.credit_code,
        "period": "2025Q2",
        "values": {},
        "nil_return": True,
    }

    chinese = client.post("/api/v1/filings/", draft, format="json")
    english = client.post("/api/v1/filings/", draft, format="json", HTTP_ACCEPT_LANGUAGE="en")

    refused = {"code": "forbidden", "errors": {}, "findings": []}
    assert (chinese.status_code, chinese.json()) == (403, {**refused, "detail": "只有本机构填报人员可以填报"})
    assert (english.status_code, english.json()) == (
        403,
        {**refused, "detail": "Only the institution’s own users may file"},
    )


@pytest.mark.django_db
def test_api_message_with_a_value_keeps_it_in_both_languages(users, chengdu_institution) -> None:
    client = APIClient()
    client.force_authenticate(users["cd_filer"])
    draft = {
        "institution": chengdu_institution.credit_code,
        "period": "2999Q1",
        "values": {},
        "nil_return": True,
    }

    chinese = client.post("/api/v1/filings/", draft, format="json").json()["detail"]
    english = client.post("/api/v1/filings/", draft, format="json", HTTP_ACCEPT_LANGUAGE="en").json()[
        "detail"
    ]

    assert (chinese, english) == ("报告期 2999Q1 尚未开始，不能填报", "The period 2999Q1 has not started")


@pytest.mark.django_db
def test_drf_own_refusal_in_the_reader_language(client) -> None:
    assert client.get("/api/v1/filings/").json()["detail"] == "请先登录或提供有效的令牌"
    assert (
        client.get("/api/v1/filings/", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
        == "Authentication required: log in or send a valid token."
    )


# ------------------------------------------------------------------------------- the quarterly report
@pytest.mark.django_db
def test_every_field_help_text_is_chinese_with_an_english_translation() -> None:
    fields = list(FieldDefinition.objects.filter(template__version=1))
    with_notes = [f for f in fields if f.notes_zh]
    assert (len(fields), len(with_notes)) == (75, 35)
    assert [f.code for f in with_notes if LATIN_WORD.search(f.notes_zh)] == []
    assert [f.code for f in with_notes if not f.notes_en] == []
    assert [f.code for f in fields if f.notes_en and not f.notes_zh] == []
    net_assets = next(f for f in fields if f.code == "net_assets")
    assert (net_assets.notes_zh, net_assets.notes_en) == (
        "应等于 资产总额 − 负债总额",
        "must equal total_assets − total_liabilities",
    )


@pytest.mark.django_db
def test_rule_citations_are_chinese() -> None:
    citations = dict(ValidationRule.objects.values_list("rule_id", "citation"))
    assert len(citations) >= 40
    assert {rule: text for rule, text in citations.items() if LATIN_WORD.search(text)} == {}
    assert citations["IDN-01"] == "净资产：应等于 资产总额 − 负债总额"


def _form(client) -> str:
    return client.get(reverse("reporting:filing_edit", kwargs={"period": str(Q2)})).content.decode()


@pytest.mark.django_db
def test_the_form_shows_help_and_section_titles_in_the_reader_language(users, client_for) -> None:
    client = client_for(users["cd_filer"])
    chinese = _form(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = _form(client)

    assert "应等于 资产总额 − 负债总额" in chinese and "权重 75%（计量办法）" in chinese
    assert "A 资产负债" in chinese and "I 人员" in chinese
    for sentence in ("must equal", "weight 75%", "year to date", "part of net assets"):
        assert sentence not in chinese
        assert sentence in english
    assert "A Balance sheet" in english and "I Staff" in english
    assert "应等于" not in english and "A 资产负债" not in english


def _help_column(client) -> dict[str, str]:
    response = client.get(reverse("reporting:excel_download", kwargs={"period": str(Q2)}))
    ws = openpyxl.load_workbook(io.BytesIO(response.content))[excel.DATA_SHEET]
    rows = ws.iter_rows(min_row=excel.FIRST_ROW, values_only=True)
    return {row[1]: row[8] or "" for row in rows}


@pytest.mark.django_db
def test_the_workbook_help_column_in_the_reader_language(users, client_for) -> None:
    client = client_for(users["cd_filer"])
    chinese = _help_column(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = _help_column(client)

    assert len(chinese) == 75
    assert {code: text for code, text in chinese.items() if LATIN_WORD.search(text)} == {}
    assert (chinese["net_assets"], english["net_assets"]) == (
        "应等于 资产总额 − 负债总额",
        "must equal total_assets − total_liabilities",
    )
    assert (chinese["loan_housing"], english["loan_housing"]) == ("权重 30%", "weight 30%")
    assert (chinese["total_assets"], english["total_assets"]) == ("", "")


# ------------------------------------------------------------------- pairs of texts kept in the code
_CJK_CHAR = re.compile(f"[{CJK}]")
# English prose: two words with a space between (a formula of field codes such as "net_assets ÷ x" is none)
_PROSE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")


def _literal(node: ast.AST) -> str | None:
    """The text of a string literal, an f-string (values as {}) or a sum of them; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        return None if left is None and right is None else (left or "") + (right or "")
    return None


def language_pairs(source: str) -> list[tuple[int, str]]:
    """Calls that hand over a message as a Chinese text followed by its English one (`_reject("文件为空",
    "the file is empty")`, `UploadProblem(zh, en)`, `flag(mask, rule, column, zh, en)`), and
    `pick_language` called with a literal: a message written in the code goes through gettext, with its
    English in the catalogue. `pick_language` is for text kept as data in two languages."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        texts = [_literal(a) for a in node.args]
        for zh, en in zip(texts, texts[1:], strict=False):
            if zh and en and _CJK_CHAR.search(zh) and not _CJK_CHAR.search(en) and _PROSE.search(en):
                found.append((node.lineno, zh[:60]))
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name == "pick_language" and any(t is not None for t in texts):
            found.append((node.lineno, "pick_language with a literal"))
    return found


def test_the_pair_detector_sees_the_old_forms() -> None:
    assert language_pairs('_reject("文件为空", "the file is empty")') == [(1, "文件为空")]
    assert language_pairs('UploadProblem(f"表头“{x}”重复", f"the header {x} repeats", sheet=s)') == [
        (1, "表头“{}”重复")
    ]
    assert language_pairs('check.flag(m, "r", "c", "必填项为空", "a value is required")') == [
        (1, "必填项为空")
    ]
    assert language_pairs('pick_language("中文", "English")') == [(1, "pick_language with a literal")]
    # data in two languages, a formula of field codes, one gettext message: none of them a pair in code
    assert language_pairs("pick_language(f.notes_zh, f.notes_en)") == []
    assert language_pairs('_ind(f, "单一客户集中度", "top1_client_liability ÷ net_assets")') == []
    assert language_pairs('_reject(gettext_lazy("文件为空"))') == []


def test_no_message_is_kept_as_a_chinese_english_pair_in_the_code() -> None:
    files = [p for p in project_files(".py") if "tests" not in p.relative_to(ROOT).parts]
    assert len(files) > 200
    found = {
        f"{path.relative_to(ROOT)}:{line}": text
        for path in files
        for line, text in language_pairs(path.read_text(encoding="utf-8"))
    }
    assert found == {}


# ------------------------------------------------ messages made in one place, read in either language
def _in(language: str, make) -> str:
    with translation.override(language):
        return str(make())


def test_an_upload_problem_names_sheet_row_and_column_in_each_language() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet("机构")
    sheet.write_row(0, 0, ["名称", "资本"])
    sheet.write_formula(1, 1, "=1+1")
    book.close()

    with pytest.raises(UploadRejected) as exc:
        read_upload(buffer.getvalue(), channel="registry", sheets=["机构"])

    (problem,) = exc.value.problems
    assert (problem.sheet, problem.cell) == ("机构", "B2")
    assert (
        _in("zh-hans", lambda: problem) == "工作表「机构」第2行 B列：单元格含公式；请填写数值，不要使用公式"
    )
    assert (
        _in("en", lambda: problem) == "sheet '机构', row 2, column B: formulas are not accepted; enter values"
    )
    assert (problem.message_zh, problem.message_en) == (
        "工作表「机构」第2行 B列：单元格含公式；请填写数值，不要使用公式",
        "sheet '机构', row 2, column B: formulas are not accepted; enter values",
    )


def test_a_number_that_cannot_be_read_in_each_language() -> None:
    with pytest.raises(BadValue) as exc:
        parse_decimal("62028,28", name="total_assets", label="资产总额（total_assets）")

    assert _in("zh-hans", lambda: exc.value) == (
        "资产总额（total_assets）含义不明确：小数请用小数点“.”（如 1234.56），逗号只能作千位分隔符，收到“62028,28”"
    )
    assert _in("en", lambda: exc.value) == (
        "total_assets is ambiguous: write decimals with a point (e.g. 1234.56), a comma may only group "
        "thousands, got '62028,28'"
    )


def test_a_loan_level_finding_is_kept_in_both_languages() -> None:
    from guarantees.validation import validate_batch
    from tests.guarantees.helpers import ABC, ICBC, guarantee_row

    result = validate_batch(
        [guarantee_row(2, fee_rate="1.5")],
        [],
        known_banks={ICBC, ABC},
        known_contracts=set(),
        product_lines={"一般借款担保": "general"},
        known_regions={"510000", "510100", "510104"},
        limits=[],
        hash_key=b"test-key",
    )

    (finding,) = result.findings
    assert (finding.rule, finding.message, finding.message_en) == (
        "rate_in_percent",
        "工作表“担保明细”第2行“年化担保费率”列：应填写小数（1% 填 0.01）；1.5 大于 1，很可能是指 1.5%，即应填 0.015",
        "sheet “Guarantees”, row 2, column “Annualised fee rate”: give a fraction (1 % is 0.01); "
        "1.5 is above 1 and probably means 1.5 %, i.e. 0.015",
    )
    stored = finding.as_dict()  # as the batch keeps it
    assert (
        _in("zh-hans", lambda: localized(stored, "message")),
        _in("en", lambda: localized(stored, "message")),
    ) == (
        finding.message,
        finding.message_en,
    )


@pytest.mark.django_db
def test_a_measure_refusal_in_each_language(users, chengdu_institution) -> None:
    from django.core.exceptions import ValidationError

    from supervision.models import MeasureType
    from supervision.services import measures

    talk = MeasureType.objects.get(code="talk")
    proposed = measures.measure_propose(
        actor=users["cd_regulator"], institution=chengdu_institution, measure_type=talk, facts="集中度超限"
    )
    refusals = {}
    for language in ("zh-hans", "en"):
        with translation.override(language), pytest.raises(ValidationError) as exc:
            measures.measure_issue(actor=users["cd_regulator"], measure=proposed)
        refusals[language] = exc.value.messages
    assert refusals == {
        "zh-hans": ["只有已批准的措施可以下达"],
        "en": ["Only an approved measure can be issued"],
    }


# ------------------------------------------------------------------------- indicator definitions
def test_every_indicator_source_and_note_has_its_english() -> None:
    from supervision.indicators import INDICATORS

    texts = {t for i in INDICATORS.values() for t in (i.source, i.notes) if t}
    assert len(texts) >= 30
    with translation.override("en"):
        untranslated = sorted(t for t in texts if translation.gettext(t) == t)
    assert untranslated == []


@pytest.mark.django_db
def test_the_indicator_page_shows_source_and_notes_in_the_reader_language(
    users, client_for, chengdu_institution
) -> None:
    from supervision.services.compute import institution_indicators_compute
    from tests.supervision.factories import make_filing

    filing = make_filing(chengdu_institution, 2025, 2)
    institution_indicators_compute(institution_id=chengdu_institution.pk)
    client = client_for(users["cd_regulator"])
    url = reverse("supervision:filing_indicators", args=[filing.pk])
    chinese = client.get(url).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(url).content.decode()

    zh_basis = "融资担保公司监督管理条例 第十五条；计量办法（扣除对其他融资担保公司股权投资为政策参数）"
    en_basis = (
        "Regulations on the Supervision of Financing Guarantee Companies, art. 15; Measurement Rules "
        "(deducting equity in other financing guarantee companies is a policy parameter)"
    )
    assert zh_basis in chinese and en_basis not in chinese
    assert en_basis in english and zh_basis not in english
    assert "any amount above 0 is a breach" in english and "大于0即违规" in chinese


# ------------------------------------------------------------------------------------- workbooks
FILINGS_CSV_HEADER = {
    "zh-hans": [
        "统一社会信用代码",
        "机构名称",
        "地区代码",
        "地区",
        "报告期",
        "状态",
        "版本",
        "零报告",
        "报送时间",
        "校验规则集",
        "数据摘要（SHA-256）",
        "资产总额（total_assets）",
    ],
    "en": [
        "Unified social credit code",
        "Institution name",
        "Region code",
        "Region",
        "Reporting period",
        "Status",
        "Version",
        "Nil report",
        "Submitted at",
        "Rule set",
        "Data digest (SHA-256)",
        "Total assets (total_assets)",
    ],
}


@pytest.mark.django_db
def test_exports_have_headers_in_the_reader_language(users, client_for) -> None:
    client = client_for(users["sc_regulator"])
    chinese_csv = client.get("/reporting/exports/filings.csv?period=2025Q2").content.decode("utf-8-sig")
    chinese_xlsx = openpyxl.load_workbook(
        io.BytesIO(client.get("/reporting/exports/aggregate.xlsx?period=2025Q2").content)
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english_csv = client.get("/reporting/exports/filings.csv?period=2025Q2").content.decode("utf-8-sig")
    english_xlsx = openpyxl.load_workbook(
        io.BytesIO(client.get("/reporting/exports/aggregate.xlsx?period=2025Q2").content)
    )

    assert next(csv.reader(io.StringIO(chinese_csv)))[:12] == FILINGS_CSV_HEADER["zh-hans"]
    assert next(csv.reader(io.StringIO(english_csv)))[:12] == FILINGS_CSV_HEADER["en"]
    head = [[c.value for c in book.active[3]][:5] for book in (chinese_xlsx, english_xlsx)]
    assert head == [
        ["部分", "字段代码", "项目", "单位", "合计"],
        ["Section", "Field code", "Item", "Unit", "Total"],
    ]
    assert (chinese_xlsx.active.title, english_xlsx.active.title) == ("汇总", "Aggregate")


def _template(client) -> bytes:
    response = client.get(reverse("reporting:excel_download", kwargs={"period": str(Q2)}))
    assert response.status_code == 200
    return response.content


@pytest.mark.django_db
def test_a_template_downloaded_in_english_uploads_back(users, client_for) -> None:
    """The reader finds the sheets by their names, which stay the same in both languages, and the
    values by field code (column B): the headers and labels that follow the language are not read."""
    from reporting.models import Filing
    from tests.reporting.hostile import fill

    client = client_for(users["cd_filer"])
    chinese = openpyxl.load_workbook(io.BytesIO(_template(client)))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = _template(client)
    english = openpyxl.load_workbook(io.BytesIO(data))

    assert english.sheetnames == chinese.sheetnames == [excel.DATA_SHEET, excel.META_SHEET]
    headers = [[c.value for c in book[excel.DATA_SHEET][excel.HEADER_ROW]][:9] for book in (chinese, english)]
    assert headers == [
        ["部分", "字段代码", "项目", "英文名称", "单位", "口径", "本期数", "上期数", "填报说明"],
        [
            "Section",
            "Field code",
            "Item",
            "English name",
            "Unit",
            "Basis of measurement",
            "Current period",
            "Previous period",
            "Filing instructions",
        ],
    ]
    filled = fill(data, {"total_assets": 62028.28, "total_liabilities": 30000, "net_assets": 32028.28})
    response = client.post(
        reverse("reporting:excel_upload", kwargs={"period": str(Q2)}),
        {"file": SimpleUploadedFile("report.xlsx", filled)},
    )
    assert response.status_code == 302
    version = Filing.objects.get(institution=users["cd_filer"].institution).current_version
    assert {k: version.values[k] for k in ("total_assets", "total_liabilities", "net_assets")} == {
        "total_assets": "62028.28",
        "total_liabilities": "30000.00",
        "net_assets": "32028.28",
    }
