from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reporting import services
from reporting.models import Filing, FilingVersion, Notification, ValidationRule
from reporting.periods import Period
from tests.factories import InstitutionFactory

from .helpers import GOOD_Q2, file_and_submit, history

USERS = [
    "admin",
    "sc_regulator",
    "cd_regulator",
    "my_regulator",
    "sc_finance",
    "cd_finance",
    "cd_filer",
    "cd_approver",
    "my_filer",
    "zj_regulator",
]


@pytest.fixture
def submitted(users, chengdu_institution):
    history(chengdu_institution, users)
    return file_and_submit(
        chengdu_institution, "2025Q2", GOOD_Q2, maker=users["cd_filer"], checker=users["cd_approver"]
    )


def row(**kw):
    return {u: kw.get(u, kw.get("default")) for u in USERS}


READ = row(default=200, my_regulator=404, my_filer=404, zj_regulator=404)
MATRIX = {
    "/reporting/filings/": row(default=200, sc_finance=403, cd_finance=403),
    "/reporting/filings/{pk}/": READ,
    "/reporting/filings/{pk}/receipt/": READ,
    "/reporting/filings/{pk}/receipt.pdf": READ,
    "/reporting/file/2025Q3/": row(default=403, cd_filer=200, cd_approver=200, my_filer=200),
    "/reporting/file/2025Q3/template.xlsx": row(default=403, cd_filer=200, cd_approver=200, my_filer=200),
    "/reporting/review/": row(
        default=403, admin=200, sc_regulator=200, cd_regulator=200, my_regulator=200, zj_regulator=200
    ),
    "/reporting/review/{pk}/": row(
        default=403, admin=200, sc_regulator=200, cd_regulator=200, my_regulator=404, zj_regulator=404
    ),
    "/reporting/completeness/?period=2025Q2": row(
        default=403, admin=200, sc_regulator=200, cd_regulator=200, my_regulator=200, zj_regulator=200
    ),
    "/reporting/rules/": row(default=200, sc_finance=403, cd_finance=403),
    "/reporting/exports/aggregate.xlsx?period=2025Q2": row(
        default=403, admin=200, sc_regulator=200, cd_regulator=200, my_regulator=200, zj_regulator=200
    ),
    "/reporting/exports/filings.csv?period=2025Q2": row(
        default=403, admin=200, sc_regulator=200, cd_regulator=200, my_regulator=200, zj_regulator=200
    ),
    "/reporting/notifications/": row(default=200),
}


@pytest.mark.parametrize("who", USERS)
def test_page_isolation_matrix(submitted, users, client_for, who):
    client = client_for(users[who])
    got = {url: client.get(url.format(pk=submitted.pk)).status_code for url in MATRIX}
    assert got == {url: expected[who] for url, expected in MATRIX.items()}


def test_anonymous_is_sent_to_login(submitted, client):
    for url in MATRIX:
        assert client.get(url.format(pk=submitted.pk)).status_code == 302


@pytest.mark.parametrize(
    "who,status",
    [
        ("my_regulator", 404),
        ("cd_filer", 403),
        ("cd_approver", 403),
        ("sc_finance", 403),
        ("zj_regulator", 404),
    ],
)
def test_review_actions_refused_outside_authority(submitted, users, client_for, who, status):
    r = client_for(users[who]).post(f"/reporting/review/{submitted.pk}/", {"action": "accept"})
    assert r.status_code == status
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_regulator_returns_with_field_comments_and_accepts(submitted, users, client_for):
    c = client_for(users["cd_regulator"])
    r = c.post(
        f"/reporting/review/{submitted.pk}/",
        {"action": "return", "cmt_staff_count": "请核实", "note": "退回"},
    )
    assert r.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "returned"
    assert submitted.current_version.review_comments == {"staff_count": "请核实", "_": "退回"}


def test_other_company_cannot_submit_or_amend(submitted, users, client_for):
    for who in ("my_filer", "cd_regulator"):
        assert client_for(users[who]).post(f"/reporting/filings/{submitted.pk}/submit/").status_code in (
            302,
            404,
        )
        assert client_for(users[who]).post(
            f"/reporting/filings/{submitted.pk}/amend/", {"reason": "x"}
        ).status_code in (302, 404)
    assert FilingVersion.objects.filter(filing=submitted).count() == 1


def test_rules_post_only_for_regulators(users, client_for):
    rule = ValidationRule.objects.get(rule_id="QOQ-01")
    assert (
        client_for(users["cd_filer"])
        .post("/reporting/rules/", {"rule": rule.pk, "active": "off"})
        .status_code
        == 403
    )
    assert (
        client_for(users["cd_regulator"])
        .post("/reporting/rules/", {"rule": rule.pk, "active": "off", "severity": "warning"})
        .status_code
        == 302
    )
    rule.refresh_from_db()
    assert rule.active is False


def test_web_form_saves_draft_and_htmx_check(users, client_for, chengdu_institution):
    history(chengdu_institution, users)
    c = client_for(users["cd_filer"])
    page = c.get("/reporting/file/2025Q2/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="fin_balance_opening" value="200000.00"' in html  # prefilled from 2024Q4
    r = c.post("/reporting/file/2025Q2/check/", {**GOOD_Q2, "net_assets": "1"})
    body = r.content.decode()
    assert "IDN-01" in body and 'id="fnd-net_assets" hx-swap-oob="true"' in body
    r = c.post("/reporting/file/2025Q2/", GOOD_Q2)
    filing = Filing.objects.get(institution=chengdu_institution, year=2025, quarter=2)
    assert r.status_code == 302 and r["Location"] == f"/reporting/filings/{filing.pk}/"
    assert filing.current_version.values["net_assets"] == "35000.00"
    r = client_for(users["cd_approver"]).post(f"/reporting/filings/{filing.pk}/submit/")
    assert r["Location"] == f"/reporting/filings/{filing.pk}/receipt/"
    receipt = client_for(users["cd_approver"]).get(r["Location"]).content.decode()
    filing.refresh_from_db()
    assert filing.current_version.values_hash in receipt and filing.current_version.ruleset_version in receipt
    pdf = client_for(users["cd_approver"]).get(f"/reporting/filings/{filing.pk}/receipt.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


Q2 = Period(2025, 2)


def _bulk(n, period=Q2, status="submitted"):
    insts = InstitutionFactory.create_batch(n, region_id="510104")
    template = services.template_for(period)
    filings = Filing.objects.bulk_create(
        [
            Filing(institution=i, year=period.year, quarter=period.quarter, template=template, status=status)
            for i in insts
        ]
    )
    versions = FilingVersion.objects.bulk_create(
        [FilingVersion(filing=f, number=1, values={}, nil_return=True) for f in filings]
    )
    for f, v in zip(filings, versions, strict=True):
        f.current_version = v
    Filing.objects.bulk_update(filings, ["current_version"])


def test_report_rows_escape_what_people_typed(submitted, users, client_for):
    """The rows of the filing page and the form are built in Python (reporting_tags.detail_rows and
    form_rows): a return comment with markup is shown as text on both, on its field's row."""
    client_for(users["cd_regulator"]).post(
        f"/reporting/review/{submitted.pk}/",
        {"action": "return", "cmt_staff_count": "<b>请核实</b>", "note": "退回"},
    )
    comment = '<i class="bi bi-chat-left-text"></i> &lt;b&gt;请核实&lt;/b&gt;</div>'
    page = client_for(users["cd_filer"]).get(f"/reporting/filings/{submitted.pk}/").content.decode()
    staff = page[page.index('<tr id="f-staff_count"') :]
    assert comment in staff[: staff.index("</tr>")] and "<b>请核实" not in page
    form = client_for(users["cd_filer"]).get("/reporting/file/2025Q2/").content.decode()
    label = form.index('<label for="f-staff_count"')
    staff = form[form.rindex("<tr", 0, label) : form.index("</tr>", label)]
    assert staff.startswith('<tr class="table-danger">') and comment in staff and "<b>请核实" not in form


def test_review_page_shows_the_change_on_the_previous_quarter(submitted, users, client_for):
    """2025Q1 → Q2: compensation_receivable 700 → 800 is +14.3 %, compensation_cumulative 4,750 → 5,000
    +5.3 %; fin_new is a year-to-date flow, which grows every quarter: no change shown."""
    html = client_for(users["cd_regulator"]).get(f"/reporting/review/{submitted.pk}/").content.decode()

    def row(code):
        part = html[html.index(f"{code}</span>") :]
        return part[: part.index("</tr>")]

    assert '<td class="num text-secondary">+14.3%</td>' in row("compensation_receivable")
    assert '<td class="num text-secondary">+5.3%</td>' in row("compensation_cumulative")
    assert '<td class="num text-secondary">—</td>' in row("fin_new")


def test_large_changes_are_flagged():
    from types import SimpleNamespace

    from reporting.views import _sections

    fields = [
        SimpleNamespace(code=c, section="A", basis=b)
        for c, b in (
            ("a", "period_end"),
            ("b", "period_end"),
            ("c", "ytd"),
            ("d", "period_end"),
            ("e", "period_end"),
        )
    ]
    rows = _sections(
        fields,
        {"a": "130", "b": "129.99", "c": "500", "d": "5", "e": ""},
        {"a": "100", "b": "100", "c": "100", "d": "0", "e": "3"},
        {},
        large_change=Decimal("0.3"),
    )[0]["rows"]
    assert [(r["change"], r["change_large"]) for r in rows] == [
        (Decimal("0.3"), True),
        (Decimal("0.2999"), False),
        (None, False),
        (None, False),
        (None, False),
    ]


def test_form_labels_and_findings_follow_the_language(users, client_for, chengdu_institution):
    history(chengdu_institution, users)
    c = client_for(users["cd_filer"])
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = c.get("/reporting/file/2025Q2/").content.decode()
    assert "Net assets (owners&#x27; equity)" in page and "净资产</label>" not in page
    body = c.post("/reporting/file/2025Q2/check/", {**GOOD_Q2, "net_assets": "1"}).content.decode()
    assert (
        "IDN-01 Net assets (1.00) must equal total assets − total liabilities" in body
        and "应等于" not in body
    )
    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    body = c.post("/reporting/file/2025Q2/check/", {**GOOD_Q2, "net_assets": "1"}).content.decode()
    assert "IDN-01 净资产（1.00）应等于资产总额减负债总额" in body


@pytest.mark.parametrize(
    "url",
    [
        "/reporting/filings/",
        "/reporting/review/",
        "/reporting/completeness/?period=2025Q2",
        "/reporting/rules/",
        "/reporting/notifications/",
    ],
)
def test_list_query_count_does_not_grow_with_rows(users, client_for, url):
    c = client_for(users["sc_regulator"])
    _bulk(3)
    Notification.objects.bulk_create([Notification(user=users["sc_regulator"], title="t") for _ in range(3)])
    c.get(url)
    with CaptureQueriesContext(connection) as small:
        assert c.get(url).status_code == 200
    _bulk(12)
    Notification.objects.bulk_create([Notification(user=users["sc_regulator"], title="t") for _ in range(12)])
    with CaptureQueriesContext(connection) as large:
        assert c.get(url).status_code == 200
    assert len(large) == len(small)


def test_findings_workbook_and_due_settings(users, client_for, chengdu_institution):
    import io

    import openpyxl

    from reporting.models import DueDateSetting

    filing, _v, _f = services.filing_save_draft(
        actor=users["cd_filer"],
        institution=chengdu_institution,
        period=Q2,
        values={**GOOD_Q2, "net_assets": "1"},
    )
    r = client_for(users["cd_filer"]).get(f"/reporting/filings/{filing.pk}/findings.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(r.content))["季度报表"]
    commented = {
        c.coordinate: c.comment.text.split("]")[0] for row in ws.iter_rows() for c in row if c.comment
    }
    assert "[IDN-01" in commented.values()
    assert (
        client_for(users["my_filer"]).get(f"/reporting/filings/{filing.pk}/findings.xlsx").status_code == 404
    )
    for who, status in (("cd_filer", 403), ("sc_finance", 403), ("cd_regulator", 200), ("sc_regulator", 200)):
        assert client_for(users[who]).get("/reporting/due-dates/").status_code == status
    form = {
        "region": "510000",
        "days_after_quarter_end": "20",
        "remind_days_before": "3",
        "overdue_days_after": "2",
        "effective_from": "2025-01-01",
        "source": "川金监发〔2025〕1号",
    }
    client_for(users["cd_regulator"]).post("/reporting/due-dates/", form)  # a city regulator may not
    assert not DueDateSetting.objects.filter(region_code="510000").exists()
    client_for(users["sc_regulator"]).post("/reporting/due-dates/", form)
    assert services.due_date("510104", Q2).isoformat() == "2025-07-20"
    client_for(users["sc_regulator"]).post(
        "/reporting/due-dates/", {**form, "region": "330000"}
    )  # another province: refused
    assert not DueDateSetting.objects.filter(region_code="330000").exists()


def test_institution_page_has_a_filings_tab_scoped_like_the_page(users, client_for, chengdu_institution):
    from reporting.models import Filing, ReportTemplate

    template = ReportTemplate.objects.get(version=1)
    for quarter in (1, 2):
        Filing.objects.create(institution=chengdu_institution, year=2025, quarter=quarter, template=template)
    url = f"/institutions/{chengdu_institution.pk}/?tab=filings"
    page = client_for(users["cd_regulator"]).get(url)
    assert page.status_code == 200
    assert [f.period.label for f in page.context["filings"]] == ["2025年第2季度", "2025年第1季度"]
    assert client_for(users["my_regulator"]).get(url).status_code == 404
