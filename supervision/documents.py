"""Documents the regulator issues or submits (measure notices, the annual report, submission packs):
one simple structure rendered to .docx (python-docx) and to PDF (reportlab with the built-in CID font
STSong-Light, as the filing receipts are made — no font file needed)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from docx import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass
class Block:
    kind: str  # "heading", "subheading", "paragraph", "table", "right"
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Doc:
    title: str
    subtitle: str = ""
    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str) -> Doc:
        self.blocks.append(Block("heading", text))
        return self

    def subheading(self, text: str) -> Doc:
        self.blocks.append(Block("subheading", text))
        return self

    def paragraph(self, text: str) -> Doc:
        for line in (text or "").splitlines() or [""]:
            self.blocks.append(Block("paragraph", line))
        return self

    def right(self, text: str) -> Doc:
        self.blocks.append(Block("right", text))
        return self

    def table(self, header, rows) -> Doc:
        self.blocks.append(
            Block("table", header=[str(h) for h in header], rows=[[_cell(v) for v in r] for r in rows])
        )
        return self


def _cell(value) -> str:
    return "—" if value is None else str(value)


def docx_bytes(doc: Doc) -> bytes:
    d = DocxDocument()
    style = d.styles["Normal"]
    style.font.name = "SimSun"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    style.font.size = Pt(11)
    title = d.add_heading(doc.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if doc.subtitle:
        p = d.add_paragraph(doc.subtitle)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for b in doc.blocks:
        if b.kind == "heading":
            d.add_heading(b.text, level=1)
        elif b.kind == "subheading":
            d.add_heading(b.text, level=2)
        elif b.kind == "paragraph":
            d.add_paragraph(b.text)
        elif b.kind == "right":
            d.add_paragraph(b.text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif b.kind == "table":
            t = d.add_table(rows=1, cols=len(b.header))
            t.style = "Table Grid"
            for i, h in enumerate(b.header):
                t.rows[0].cells[i].text = h
            for r in b.rows:
                cells = t.add_row().cells
                for i, v in enumerate(r):
                    cells[i].text = v
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of `text` no wider than `width` points in FONT at `size` (CJK wraps anywhere)."""
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, FONT, size) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    lines.append(line)
    return lines


def pdf_bytes(doc: Doc) -> bytes:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setTitle(doc.title)
    width, height = A4
    left, right, top, bottom = 22 * mm, width - 22 * mm, height - 25 * mm, 20 * mm
    y = top

    def need(space):
        nonlocal y
        if y - space < bottom:
            c.showPage()
            y = top

    def write(text, size, *, indent=0.0, align="left", gap=1.5):
        nonlocal y
        for line in _wrap(text, right - left - indent, size):
            need(size * gap)
            c.setFont(FONT, size)
            if align == "center":
                c.drawCentredString(width / 2, y, line)
            elif align == "right":
                c.drawRightString(right, y, line)
            else:
                c.drawString(left + indent, y, line)
            y -= size * gap

    write(doc.title, 18, align="center", gap=2)
    if doc.subtitle:
        write(doc.subtitle, 11, align="center", gap=2)
    for b in doc.blocks:
        if b.kind == "heading":
            y -= 4
            write(b.text, 14, gap=1.8)
        elif b.kind == "subheading":
            write(b.text, 12, gap=1.7)
        elif b.kind == "paragraph":
            write(b.text, 11)
        elif b.kind == "right":
            write(b.text, 11, align="right")
        elif b.kind == "table":
            cols = max(len(b.header), 1)
            col_w = (right - left) / cols
            size = 9 if cols <= 6 else 8
            for row in [b.header, *b.rows]:
                wrapped = [_wrap(v, col_w - 4, size) for v in row]
                h = max(len(w) for w in wrapped) * size * 1.4 + 4
                need(h)
                for i, lines in enumerate(wrapped):
                    x = left + i * col_w
                    c.rect(x, y - h + size, col_w, h, stroke=1, fill=0)
                    c.setFont(FONT, size)
                    for k, line in enumerate(lines):
                        c.drawString(x + 2, y - k * size * 1.4, line)
                y -= h
            y -= 6
    c.showPage()
    c.save()
    return buffer.getvalue()


def measure_document(measure) -> Doc:
    """The issued measure as its notice (文书): the text filled from the type's template at issue."""
    doc = Doc(title=f"{measure.issuing_body or ''}", subtitle=measure.number)
    doc.heading(f"关于对{measure.institution.name}采取{measure.measure_type.name}措施的通知")
    doc.paragraph(measure.document_text)
    return doc


def document_response(doc: Doc, filename_stem: str, fmt: str):
    """The document as a download: .docx or .pdf (anything else is a 404)."""
    from django.http import Http404, HttpResponse
    from django.utils.http import content_disposition_header

    if fmt not in ("docx", "pdf"):
        raise Http404
    content = docx_bytes(doc) if fmt == "docx" else pdf_bytes(doc)
    response = HttpResponse(content, content_type=DOCX_TYPE if fmt == "docx" else "application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{filename_stem}.{fmt}"
    )
    return response
