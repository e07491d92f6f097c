"""Workbooks and CSV files as filers send them (built in memory)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import xlsxwriter

from guarantees.validation import EVENT_COLUMNS, GUARANTEE_COLUMNS


def workbook(guarantees: list[dict], events: list[dict] = (), *, sheets=("担保明细", "担保事件")) -> bytes:
    """An xlsx like the template: Chinese headers, one row per dict (a date value becomes a date cell, a
    number a number cell)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, columns, rows in (
        (sheets[0], GUARANTEE_COLUMNS, guarantees),
        (sheets[1], EVENT_COLUMNS, events),
    ):
        ws = book.add_worksheet(name)
        for c, label in enumerate(columns.values()):
            ws.write_string(0, c, label)
        for r, row in enumerate(rows, start=1):
            for c, code in enumerate(columns):
                value = row.get(code, "")
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_fmt)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value)
                elif value != "":
                    ws.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()


def csv_bytes(columns: dict, rows: list[dict], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns.values())
    for row in rows:
        writer.writerow([row.get(code, "") for code in columns])
    return out.getvalue().encode(encoding)


def with_macros(data: bytes) -> bytes:
    """The workbook with a VBA project added (what an .xlsm carries)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, source.read(info))
        out.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 512)
    return buffer.getvalue()


def zip_bomb(data: bytes) -> bytes:
    """The workbook with one extra part of 50 MiB of zeros (compressed about 1000:1)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info, source.read(info))
        out.writestr("xl/media/padding.xml", b"\x00" * (50 * 1024 * 1024))
    return buffer.getvalue()
