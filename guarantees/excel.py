"""The loan-level records as files: the template, reading an upload (xlsx with two sheets, or CSV files)
into the rows validation takes, and the error report.

Every upload goes through core.excel.read_upload (channel "guarantees": size, zip directory, macros,
DTDs, the row limit before any parser runs); this module only maps the headers (the Chinese or English
header, or the column code) to column codes and hands the rows over with the row number the filer sees. The error
report is the uploaded data in its own layout (sheets, header order) with each finding as a comment on
its cell — the same shape as the quarterly report's error report.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pandas as pd
import xlsxwriter
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.excel import (
    WORKBOOK_OPTIONS,
    Table,
    UploadProblem,
    UploadRejected,
    column_letter,
    not_a_template_column,
    read_upload,
)
from core.exceptions import deferred, pick_language
from core.templatetags.portal import localized

from .choices import Sheet
from .validation import (
    COLUMNS,
    HEADERS,
    SHEET_NAMES,
    SHEET_TITLES,
    column_title,
    normalise_text,
    sheet_title,
)

CHANNEL = "guarantees"
POOL_LIMIT = 20_000  # distinct values a column may have and still be pooled
REQUIRED_HEADERS = {
    Sheet.GUARANTEES: ("contract_no", "client_name", "client_type", "loan_amount", "guaranteed_amount"),
    Sheet.EVENTS: ("contract_no", "kind", "occurred_on", "amount"),
}
# The template is written in the reader's language (sheet names, headers, instructions); an upload is
# read in either language (validation.SHEET_TITLES and HEADERS hold both).
NOTES = [
    (
        gettext_lazy("担保明细"),
        gettext_lazy(
            "每行一笔担保；担保合同编号在本机构内唯一，已报送的编号再次报送即为更正（只需报送要更正的行）。"
        ),
    ),
    (
        gettext_lazy("担保事件"),
        gettext_lazy("每行一个解保、代偿、追偿或核销事件，以担保合同编号指向担保明细（本批次或已报送的）。"),
    ),
    (
        gettext_lazy("金额"),
        gettext_lazy("单位万元，最多两位小数；不得为负数。按元填报会收到量级提示，须核实后确认。"),
    ),
    (gettext_lazy("费率与比例"), gettext_lazy("填写小数：1.5% 填 0.015，或写作 1.5%。大于 1 的数视为错误。")),
    (
        gettext_lazy("日期"),
        gettext_lazy("2025-03-01、2025/3/1、2025年3月1日、20250301 或 Excel 日期单元格均可。"),
    ),
    (
        gettext_lazy("客户证件"),
        gettext_lazy(
            "企业填写统一社会信用代码；自然人（农户、个体工商户）填写身份证号码，平台只保存其密钥散列和后四位。"
        ),
    ),
    (
        gettext_lazy("贷款银行"),
        gettext_lazy(
            "填写银行名录中的银行名称（如“中国工商银行成都分行”）；非银行债权人填写在“其他债权人”列。"
        ),
    ),
    (gettext_lazy("客户类型"), gettext_lazy("小微企业、个体工商户、农户、其他。")),
    (gettext_lazy("事件类型"), gettext_lazy("解保、代偿、追偿、核销；代偿利息只在代偿事件填写。")),
    (gettext_lazy("CSV"), gettext_lazy("也可分别上传两个 CSV 文件（UTF-8 或 GBK 编码，首行为上述表头）。")),
]


@dataclass
class BatchRows:
    """Rows of both sheets keyed by column code, each with its `source_row`; the headers as they were."""

    guarantees: pd.DataFrame
    events: pd.DataFrame
    headers: dict[str, list[str]] = field(default_factory=dict)  # sheet code → column codes in file order
    labels: dict[str, list[str]] = field(default_factory=dict)  # sheet code → header cells as written
    names: dict[str, str] = field(default_factory=dict)  # sheet code → sheet name in the file
    # the error report's row of source_row n is n + report_offset: 0 for a file (its own row numbers),
    # 1 for the API's arrays (item n is drawn below the header, in row n + 1)
    report_offset: int = 0

    @property
    def row_count(self) -> int:
        return len(self.guarantees) + len(self.events)


def max_rows() -> int:
    """The data rows one sheet may hold (settings.GUARANTEE_UPLOAD_MAX_ROWS, default 500,000)."""
    return getattr(settings, "GUARANTEE_UPLOAD_MAX_ROWS", 500_000)


# ----------------------------------------------------------------------------------------------- template
def template_headers(sheet: str) -> list[str]:
    """The sheet's headers in the reader's language."""
    return [pick_language(zh, en) for zh, en in HEADERS[sheet].values()]


def template_tables() -> list[Table]:
    """The template in the reader's language: the data sheets, then the instructions."""
    return [
        Table(
            str(sheet_title(Sheet.GUARANTEES)),
            template_headers(Sheet.GUARANTEES),
            [],
            widths=[18] * len(COLUMNS[Sheet.GUARANTEES]),
        ),
        Table(str(sheet_title(Sheet.EVENTS)), template_headers(Sheet.EVENTS), [], widths=[18] * 5),
        Table(
            _("填报说明"),
            [_("项目"), _("说明")],
            [(str(item), str(text)) for item, text in NOTES],
            widths=[14, 110],
        ),
    ]


def template_csv_table(sheet: str) -> Table:
    return Table(str(sheet_title(sheet)), template_headers(sheet), [])


# ----------------------------------------------------------------------------------------------- reading
def _sheet_kind(header: Sequence[str]) -> str | None:
    codes = {_code_for(h, Sheet.EVENTS) for h in header} | {_code_for(h, Sheet.GUARANTEES) for h in header}
    if "kind" in codes:
        return Sheet.EVENTS
    if "client_name" in codes or "guaranteed_amount" in codes:
        return Sheet.GUARANTEES
    return None


def _code_for(label: object, sheet: str) -> str | None:
    """The column code a header names: its Chinese or English header (the English in any case) or the
    code itself."""
    text = normalise_text(label)
    folded = text.casefold()
    for code, (zh, en) in HEADERS[sheet].items():
        if text in (code, zh) or folded == en.casefold():
            return code
    return None


def _frame(
    sheet: str, name: str, values: Iterator[list], *, first_row: int
) -> tuple[pd.DataFrame, list, list]:
    """Rows below the header as a frame of column codes, built column by column from the rows as they
    come (a sheet is never held twice); an unknown or repeated header, or a missing required one, is
    refused naming the sheet and column."""
    header = [normalise_text(v) for v in next(values, [])]
    while header and header[-1] == "":
        header.pop()
    problems, codes = [], []
    for i, label in enumerate(header):
        code = _code_for(label, sheet) if label else None
        if label and code is None:
            problems.append(not_a_template_column(label, sheet=name, row=first_row, index=i))
        elif code in codes:
            problems.append(
                UploadProblem(
                    deferred(gettext_lazy("表头“%(label)s”重复"), label=label),
                    sheet=name,
                    row=first_row,
                    column=column_letter(i),
                )
            )
        codes.append(code or f"_blank{i}")
    for code in REQUIRED_HEADERS[sheet]:
        if code not in codes:
            problems.append(
                UploadProblem(
                    deferred(gettext_lazy("缺少必需的列“%(label)s”"), label=column_title(sheet, code)),
                    sheet=name,
                )
            )
    if problems:
        raise UploadRejected(problems)
    width = len(codes)
    kept = [i for i, c in enumerate(codes) if not c.startswith("_blank")]
    columns: list[list] = [[] for _ in kept]
    numbers = []
    # A value that repeats down a column (bank, type, region, 是/否, a rate) is kept once: the reader
    # hands over a new object per cell, and 100,000 rows × 22 columns of them cost more memory than the
    # parser's own copy. A column found to be mostly distinct (contract numbers) stops being pooled.
    pools: list[dict | None] = [{} for _ in kept]
    for number, row in enumerate(values, start=first_row + 1):
        cells = row[:width]
        if all(c == "" or c is None for c in cells):
            continue  # a blank line between rows is no row
        n = len(cells)
        for k, i in enumerate(kept):
            value = cells[i] if i < n else ""
            pool = pools[k]
            if pool is not None:
                value = pool.setdefault(value, value)
                if len(pool) > POOL_LIMIT:
                    pools[k] = None
            columns[k].append(value)
        numbers.append(number)
    if len(numbers) > max_rows():
        raise UploadRejected(
            [
                UploadProblem(
                    deferred(
                        gettext_lazy("数据行数 %(count)s 超过上限 %(limit)s"),
                        count=f"{len(numbers):,}",
                        limit=f"{max_rows():,}",
                    ),
                    sheet=name,
                )
            ]
        )
    frame = pd.DataFrame(
        {codes[i]: pd.Series(column, dtype=object) for column, i in zip(columns, kept, strict=True)}
    )
    frame["source_row"] = numbers
    return frame, list(codes), header


def _empty(sheet: str) -> pd.DataFrame:
    return pd.DataFrame({**{c: pd.Series(dtype=object) for c in COLUMNS[sheet]}, "source_row": []})


def read_batch(files: Sequence[tuple[bytes, str]]) -> BatchRows:
    """One xlsx workbook (sheets 担保明细 and 担保事件, or Guarantees and Guarantee events) or one or two
    CSV files (guarantees and events, told apart by their headers): the rows of the batch. Raises
    UploadRejected naming what is wrong."""
    found: dict[str, tuple[str, list[list]]] = {}
    names = [name for titles in SHEET_TITLES.values() for name in titles]
    for data, filename in files:
        sheets = read_upload(data, channel=CHANNEL, filename=filename, sheets=names, stream=True)
        if not data.startswith(b"PK\x03\x04"):  # read_upload took it as CSV (one sheet named after the file)
            ((name, sheet),) = sheets.items()
            kind = _sheet_kind(sheet.values[0] if sheet.values else [])
            if kind is None:
                raise UploadRejected(
                    [
                        UploadProblem(
                            gettext_lazy("无法识别是担保明细还是担保事件：首行应为模板的表头"),
                            sheet=name,
                        )
                    ]
                )
        else:
            by_name = {sheet.name: sheet for sheet in sheets.values()}
            for kind, titles in SHEET_TITLES.items():
                for sheet_name in titles:
                    if sheet_name in by_name:
                        _add(found, kind, sheet_name, by_name[sheet_name].rows())
            if Sheet.GUARANTEES not in found and Sheet.EVENTS not in found:
                raise UploadRejected(
                    [
                        UploadProblem(
                            gettext_lazy("工作簿中没有“担保明细”或“担保事件”工作表（请使用下载的模板）")
                        )
                    ]
                )
            continue
        _add(found, kind, name, iter(sheet.values))
    rows = BatchRows(guarantees=_empty(Sheet.GUARANTEES), events=_empty(Sheet.EVENTS))
    for kind, (name, values) in found.items():
        frame, codes, labels = _frame(kind, name, values, first_row=1)
        if kind == Sheet.GUARANTEES:
            rows.guarantees = frame
        else:
            rows.events = frame
        rows.headers[kind], rows.labels[kind], rows.names[kind] = codes, labels, name
    return rows


def _add(found: dict, kind: str, name: str, values: list[list]) -> None:
    if kind in found:
        raise UploadRejected(
            [
                UploadProblem(
                    deferred(
                        gettext_lazy("重复上传了%(sheet)s（“%(first)s”与“%(second)s”）"),
                        sheet=sheet_title(kind),
                        first=found[kind][0],
                        second=name,
                    )
                )
            ]
        )
    found[kind] = (name, values)


def read_json(payload: bytes) -> BatchRows:
    """A stored API batch ({"guarantees": [...], "events": [...]}): row n is the n-th item (1-based).
    It has no sheets of its own: its error report is headed in the language of whoever downloads it."""
    data = json.loads(payload)
    rows = BatchRows(guarantees=_empty(Sheet.GUARANTEES), events=_empty(Sheet.EVENTS), report_offset=1)
    for kind in (Sheet.GUARANTEES, Sheet.EVENTS):
        items = data.get(kind) or []
        if items:
            frame = pd.DataFrame(items, dtype=object)
            frame["source_row"] = range(1, len(items) + 1)
            setattr(rows, kind, frame)
            rows.headers[kind] = [c for c in COLUMNS[kind] if c in frame]
            rows.labels[kind] = [str(column_title(kind, c)) for c in rows.headers[kind]]
            rows.names[kind] = str(sheet_title(kind))
    return rows


# ----------------------------------------------------------------------------------------------- error report
def error_report(rows: BatchRows, findings: Sequence[dict]) -> bytes:
    """The batch's data in its own layout (sheets and header order as sent; columns a finding names but
    the file lacked are added at the right), every finding a comment on its cell, errors red, warnings
    amber. Strings are written as strings (never formulas)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {**WORKBOOK_OPTIONS, "in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#E8EFFB", "border": 1})
    error_fmt = book.add_format({"bg_color": "#F8CBAD", "border": 1, "border_color": "#C00000"})
    warn_fmt = book.add_format({"bg_color": "#FFE699", "border": 1, "border_color": "#BF8F00"})
    by_sheet: dict[str, dict[tuple[int, str], list[dict]]] = {}
    for f in findings:
        by_sheet.setdefault(f["sheet"], {}).setdefault((f["row"], f["column"]), []).append(f)
    for kind in (Sheet.GUARANTEES, Sheet.EVENTS):
        frame = rows.guarantees if kind == Sheet.GUARANTEES else rows.events
        codes = list(rows.headers.get(kind) or [c for c in COLUMNS[kind] if c in frame])
        labels = list(rows.labels.get(kind) or [COLUMNS[kind][c] for c in codes])
        notes = by_sheet.get(kind, {})
        for _row, column in notes:
            if column not in codes:
                codes.append(column)
                labels.append(str(column_title(kind, column)))
        ws = book.add_worksheet(rows.names.get(kind, SHEET_NAMES[kind])[:31])
        for c, label in enumerate(labels):
            if label:
                ws.write_string(0, c, label, head)
            ws.set_column(c, c, 16)
        ws.freeze_panes(1, 0)
        numbers = frame["source_row"].tolist() if "source_row" in frame else []
        columns = [frame[c].tolist() if c in frame else [""] * len(frame) for c in codes]
        for i, number in enumerate(numbers):
            r = int(number) - 1 + rows.report_offset
            for c, code in enumerate(codes):
                here = notes.get((int(number), code))
                fmt = None
                if here:
                    fmt = error_fmt if any(f["severity"] == "error" for f in here) else warn_fmt
                _cell(ws, r, c, columns[c][i], fmt)
                if here:
                    ws.write_comment(
                        r,
                        c,
                        "\n".join(localized(f, "message") for f in here),
                        {"x_scale": 3, "y_scale": 2, "author": _("校验")},
                    )
    book.close()
    return buffer.getvalue()


def _cell(ws, r: int, c: int, value: object, fmt) -> None:
    if isinstance(value, bool):
        ws.write_boolean(r, c, value, fmt)
    elif isinstance(value, int | float) and not (isinstance(value, float) and value != value):
        ws.write_number(r, c, value, fmt)
    else:
        text = normalise_text(value)
        if text:
            ws.write_string(r, c, text, fmt)
        elif fmt is not None:
            ws.write_blank(r, c, None, fmt)
