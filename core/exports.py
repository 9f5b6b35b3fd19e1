"""CSV and XLSX downloads of report rows, safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some read a
leading tab or carriage return the same way) as a formula, so text someone else typed,
such as an organisation's name of ``=HYPERLINK(...)``, could run when a commissioner
opens the file. Every such text cell is written with a leading single quote (OWASP's
advice for CSV); in XLSX it is also written as a string cell, never a formula, and
keeps the quote so that saving the workbook again as CSV stays safe. Numbers stay
numbers so the figures can be added up."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Cell = str | int | float | Decimal | datetime.date | None

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)


def safe_text(value: str) -> str:
    """``value`` with a leading quote if a spreadsheet would read it as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _plain(value: Cell) -> Cell:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | Decimal | datetime.date):
        return value
    return safe_text(str(value))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_plain(h) for h in header])
    for row in rows:
        writer.writerow([v.isoformat() if isinstance(v, datetime.date) else _plain(v) for v in row])
    # A byte order mark tells spreadsheet programs the file is UTF-8 (for "£").
    return buffer.getvalue().encode("utf-8-sig")


def _fill_sheet(sheet: Any, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    widths: list[int] = []
    for row_index, row in enumerate([list(header), *rows], start=1):
        for column, value in enumerate(row, start=1):
            plain = _plain(value)
            cell: XlsxCell = sheet.cell(row=row_index, column=column)
            if isinstance(plain, str):
                # Assigning a str starting with "=" makes openpyxl write a formula:
                # set the string type after the value, so it is stored as text.
                cell.value = plain
                cell.data_type = "s"
            else:
                cell.value = plain
                if isinstance(plain, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(plain, Decimal) and plain.as_tuple().exponent == -2:
                    # Pounds and pence: show both decimals (12.50, not 12.5).
                    cell.number_format = "#,##0.00"
            if row_index == 1:
                cell.font = BOLD
            length = len(str(plain))
            if len(widths) < column:
                widths.append(length)
            else:
                widths[column - 1] = max(widths[column - 1], length)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"


def _sheet_title(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Report"


def xlsx_bytes(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], *, sheet_title: str = "Report"
) -> bytes:
    return xlsx_sheets_bytes([(sheet_title, header, rows)])


def xlsx_sheets_bytes(
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Cell]]]],
) -> bytes:
    """A workbook with one sheet per (title, header, rows), in order."""
    workbook = Workbook(write_only=False)
    for extra in workbook.worksheets:
        workbook.remove(extra)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=_sheet_title(title))
        _fill_sheet(sheet, header, rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download_filename(stem: str, extension: str, *, on: datetime.date) -> str:
    """A file name a person recognises later: ``outcomes-holders-2025-11-24.csv``."""
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "report"
    return f"{slug}-{on.isoformat()}.{extension}"


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def csv_download(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], *, filename: str
) -> HttpResponse:
    return _attachment(csv_bytes(header, rows), CSV_TYPE, filename)


def xlsx_download(
    header: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    filename: str,
    sheet_title: str = "Report",
) -> HttpResponse:
    return _attachment(xlsx_bytes(header, rows, sheet_title=sheet_title), XLSX_TYPE, filename)
