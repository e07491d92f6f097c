"""The annual supervision and development report: Sichuan 2025 from the demo data, opened as docx and
checked against the database; narratives saved with history; the registry of sections; exports and
authority."""

import io
from collections import Counter
from decimal import Decimal
from io import StringIO

import docx
import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from institutions.models import Institution
from reporting.models import Filing
from supervision import annual_report as ar
from supervision.models import Rating, ReportNarrative, WarningCase
from supervision.report_sections import _SECTIONS, PARTS, ReportSection, SectionContent, register_section

pytestmark = pytest.mark.django_db


def test_sichuan_2025_report_from_the_demo_data(client):
    call_command("seed_demo", stdout=StringIO())
    sc = User.objects.get(username="sc_regulator")
    client.force_login(sc)
    page = client.get(reverse("supervision:annual_report") + "?year=2025")
    assert page.status_code == 200
    client.post(
        reverse("supervision:annual_report"),
        {"region": "510000", "year": "2025", "part": "practice", "text": "推行主监管员制度。"},
    )
    client.post(
        reverse("supervision:annual_report"),
        {"region": "510000", "year": "2025", "part": "practice", "text": "推行主监管员制度，按月分析指标。"},
    )
    assert list(ReportNarrative.objects.filter(part="practice").values_list("text", flat=True)) == [
        "推行主监管员制度，按月分析指标。",
        "推行主监管员制度。",
    ]  # the latest first, the earlier kept as history
    response = client.get(reverse("supervision:annual_report_docx") + "?region=510000&year=2025")
    d = docx.Document(io.BytesIO(response.content))
    headings = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert headings == [str(title) for _key, title in PARTS]
    text = "\n".join(p.text for p in d.paragraphs)
    # figures against the database
    operating = Institution.objects.filter(region__pk__startswith="51", status="operating")
    in_force = sum(
        Decimal(v["fin_balance"])
        for v in Filing.objects.filter(
            institution__region__pk__startswith="51", year=2025, quarter=4, first_submitted_at__isnull=False
        ).values_list("current_version__values", flat=True)
    )
    assert in_force > 0
    assert f"正常经营的融资担保公司{operating.count()}家" in text
    assert f"融资担保在保余额{in_force:,.2f}万元" in text
    warnings = WarningCase.objects.filter(institution__region__pk__startswith="51", first_year=2025).count()
    assert f"全年新发生风险预警{warnings}件" in text
    grades = Counter(Rating.objects.filter(year=2025).values_list("grade", flat=True))
    assert f"A级{grades['A']}家、B级{grades['B']}家、C级{grades['C']}家、D级{grades['D']}家" in text
    assert "推行主监管员制度，按月分析指标。" in text
    # the provincial report rolls up its cities: a row per city with institutions
    city_table = next(t for t in d.tables if t.rows[0].cells[0].text == "市（州）")
    cities = {r.cells[0].text: int(r.cells[1].text) for r in city_table.rows[1:]}
    assert cities["成都市"] == operating.filter(region__pk__startswith="5101").count()
    assert sum(cities.values()) == operating.count()
    pdf = client.get(reverse("supervision:annual_report_pdf") + "?region=510000&year=2025")
    assert pdf.content[:5] == b"%PDF-"
    # the annual table and the quarterly pack
    table = client.get(reverse("supervision:annual_table_xlsx") + "?region=510000&year=2025")
    sheet = openpyxl.load_workbook(io.BytesIO(table.content)).active
    assert sheet.max_row - 1 == operating.count()
    pack = client.get(reverse("supervision:quarter_pack_docx") + "?region=510000&period=2025Q4")
    assert "一、报表报送情况" in "\n".join(p.text for p in docx.Document(io.BytesIO(pack.content)).paragraphs)
    # the city regulator sees its city, not the province; companies and finance officers not at all
    cd = User.objects.get(username="cd_regulator")
    client.force_login(cd)
    assert client.get(reverse("supervision:annual_report") + "?region=510000").status_code == 404
    assert client.get(reverse("supervision:annual_report")).context["region"].code == "510100"
    client.post(
        reverse("supervision:annual_report"),
        {"region": "510000", "year": "2025", "part": "other", "text": "x"},
    )
    assert not ReportNarrative.objects.filter(part="other").exists()
    for name in ("cdzx_filer", "sc_finance"):
        client.force_login(User.objects.get(username=name))
        assert client.get(reverse("supervision:annual_report")).status_code == 403


def test_a_higher_app_contributes_a_section_through_the_registry(users, client_for):
    def build(user, region_code, year):
        return SectionContent(lines=[f"担保费补贴{year}年度拨付123万元"], figures={"paid": 123})

    before = list(_SECTIONS)
    try:
        register_section(ReportSection("test_subsidies", "development", "担保费补贴", build, order=50))
        parts = ar.build_report(users["sc_regulator"], "510000", 2025)
        development = next(p for p in parts if p["key"] == "development")
        assert [s.key for s, _c in development["sections"]] == ["development", "test_subsidies"]
        doc = ar.report_document(users["sc_regulator"].region, 2025, parts)
        assert any(b.text == "担保费补贴2025年度拨付123万元" for b in doc.blocks)
        with pytest.raises(ValueError):
            register_section(ReportSection("bad", "nowhere", "x", build))
    finally:
        _SECTIONS[:] = before


def test_deadlines_on_the_provincial_board(users):
    import datetime as dt

    due = {k: d for k, _l, d in ar.deadlines(dt.date(2026, 1, 10))}
    assert due == {
        "report.quarter_pack": dt.date(2026, 1, 25),  # 2025Q4 + 25 days
        "report.annual_table": dt.date(2026, 1, 31),
        "report.annual": dt.date(2026, 2, 15),
    }
    assert ar.deadlines(dt.date(2026, 2, 16))[2][2] == dt.date(2027, 2, 15)
