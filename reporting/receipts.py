"""The filing receipt (回执) as PDF: institution, period, version, submitted at/by, ruleset version,
values hash. Chinese text uses reportlab's built-in CID font STSong-Light (no font file needed)."""

import io

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def receipt_rows(filing, version) -> list[tuple[str, str]]:
    submitted_by = version.submitted_by
    return [
        ("机构名称", filing.institution.name),
        ("统一社会信用代码", filing.institution.credit_code),
        ("报告期", f"{filing.period.label}（{filing.period}）"),
        ("报表模板", f"{filing.template.name} 第 {filing.template.version} 版"),
        ("报表版本", f"第 {version.number} 版" + ("（本期无融资担保业务）" if version.nil_return else "")),
        ("报送时间", timezone.localtime(version.submitted_at).strftime("%Y-%m-%d %H:%M:%S")),
        (
            "报送人",
            f"{submitted_by.get_full_name() or submitted_by.username}（{submitted_by.username}）"
            if submitted_by
            else "—",
        ),
        ("校验规则版本", version.ruleset_version),
        ("数据摘要 SHA-256", version.values_hash),
        ("提示及说明", f"{len(version.findings)} 条提示，均已说明" if version.findings else "无"),
    ]


def receipt_pdf(filing, version) -> bytes:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(f"报送回执 {filing.institution.credit_code} {filing.period} v{version.number}")
    width, height = A4
    c.setFont(FONT, 18)
    c.drawCentredString(width / 2, height - 30 * mm, "融资担保公司季度监管报表报送回执")
    y = height - 48 * mm
    for label, value in receipt_rows(filing, version):
        c.setFont(FONT, 11)
        c.drawString(25 * mm, y, label)
        c.setFont(FONT, 10 if len(value) > 40 else 11)
        if len(value) > 64:  # the hash: two lines
            c.drawString(70 * mm, y, value[:32])
            y -= 6 * mm
            c.drawString(70 * mm, y, value[32:])
        else:
            c.drawString(70 * mm, y, value)
        y -= 10 * mm
    c.setFont(FONT, 9)
    c.drawString(25 * mm, y - 6 * mm, "数据摘要按报送数据（规范化 JSON）计算，可用于核对报送内容未被改动。")
    c.showPage()
    c.save()
    return buffer.getvalue()
