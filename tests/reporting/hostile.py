"""Broken quarterly uploads, generated from a genuine downloaded template: wrong values, wrong identity,
wrong layout (the file-level attacks every channel refuses are in tests/core/hostile.py).

corpus(good) → [(name, () → bytes, expected Chinese message, expected cell or "")]."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from reporting.excel import DATA_SHEET, META_SHEET


def row_of(ws, code: str) -> int:
    for row in ws.iter_rows(min_col=2, max_col=2):
        if row[0].value == code:
            return row[0].row
    raise KeyError(code)


def edit(data: bytes, fn) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    fn(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def fill(data: bytes, values: dict) -> bytes:
    def apply(wb):
        ws = wb[DATA_SHEET]
        for code, value in values.items():
            ws.cell(row=row_of(ws, code), column=7, value=value)

    return edit(data, apply)


def cell_of(data: bytes, code: str) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return f"G{row_of(wb[DATA_SHEET], code)}"


def corpus(good: bytes, *, own_credit_code: str, other_credit_code: str) -> list[tuple]:
    def meta(row, value):
        return edit(good, lambda wb: wb[META_SHEET].cell(row=row, column=2, value=value))

    def delete_meta(wb):
        del wb[META_SHEET]

    def rename_data(wb):
        wb[DATA_SHEET].title = "Sheet1"

    def code_cell(value, row_code="staff_count"):
        def apply(wb):
            ws = wb[DATA_SHEET]
            ws.cell(row=row_of(ws, row_code), column=2, value=value)

        return apply

    def formula_elsewhere(wb):
        wb[DATA_SHEET]["I20"] = "=SUM(G9:G10)"

    staff, net = cell_of(good, "staff_count"), cell_of(good, "net_assets")
    at_staff = f"工作表「季度报表」第{staff[1:]}行 G列："
    at_net = f"工作表「季度报表」第{net[1:]}行 G列："
    at_code = f"工作表「季度报表」第{staff[1:]}行 B列："
    return [
        ("formula-value", lambda: fill(good, {"staff_count": "=1+1"}), at_staff + FORMULA, staff),
        (
            "formula-elsewhere",
            lambda: edit(good, formula_elsewhere),
            "工作表「季度报表」第20行 I列：" + FORMULA,
            "I20",
        ),
        (
            "text-in-number",
            lambda: fill(good, {"net_assets": "三万五千"}),
            at_net + "净资产（net_assets）应为数字，收到“三万五千”",
            net,
        ),
        (
            "negative-count",
            lambda: fill(good, {"staff_count": -3}),
            at_staff + "从业人员数（staff_count）应为非负整数，收到 -3.0",
            staff,
        ),
        (
            "fractional-count",
            lambda: fill(good, {"staff_count": 1.5}),
            at_staff + "从业人员数（staff_count）应为非负整数，收到 1.5",
            staff,
        ),
        (
            "long-string",
            lambda: fill(good, {"net_assets": "9" * 32767}),
            at_net + "净资产（net_assets）应为数字，收到 32767 个字符的文本",
            net,
        ),
        (
            "boolean",
            lambda: fill(good, {"net_assets": True}),
            at_net + "净资产（net_assets）应为数字，不能是逻辑值",
            net,
        ),
        (
            "date",
            lambda: fill(good, {"net_assets": dt.datetime(2025, 6, 30)}),
            at_net + "净资产（net_assets）应为数字，收到日期/时间",
            net,
        ),
        (
            "three-decimals",
            lambda: fill(good, {"net_assets": 1.234}),
            at_net + "净资产（net_assets）最多保留两位小数（万元），收到“1.234”",
            net,
        ),
        (
            "huge-number",
            lambda: fill(good, {"net_assets": 1e20}),
            at_net + "净资产（net_assets）数值超出范围，收到“1e+20”",
            net,
        ),
        (
            "wrong-template-version",
            lambda: meta(1, "2"),
            "工作表「_meta」第1行 B列：模板版本为“2”，本报告期应使用第 1 版模板，请重新下载",
            "B1",
        ),
        (
            "wrong-institution",
            lambda: meta(2, other_credit_code),
            f"工作表「_meta」第2行 B列：工作簿属于其他机构（{other_credit_code}），不是 {own_credit_code}",
            "B2",
        ),
        (
            "wrong-period",
            lambda: meta(3, "2025Q1"),
            "工作表「_meta」第3行 B列：工作簿报告期为“2025Q1”，与上传的报告期 2025Q2 不符",
            "B3",
        ),
        (
            "no-meta-sheet",
            lambda: edit(good, delete_meta),
            "找不到工作表“_meta”，请使用平台下载的模板",
            "",
        ),
        (
            "renamed-data-sheet",
            lambda: edit(good, rename_data),
            "找不到工作表“季度报表”，请使用平台下载的模板",
            "",
        ),
        (
            "unknown-code",
            lambda: edit(good, code_cell("bogus_code")),
            at_code + "未知字段代码“bogus_code”",
            staff.replace("G", "B"),
        ),
        (
            "duplicate-code",
            lambda: edit(good, code_cell("net_assets")),
            at_code + "字段代码 net_assets 重复出现",
            staff.replace("G", "B"),
        ),
    ]


FORMULA = "单元格含公式；请填写数值，不要使用公式"
