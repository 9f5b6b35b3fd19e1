"""A report as its readers get it: a title, a few facts about it, and sections, each a
table with a total row where one adds up. The monthly finance report and the outcomes
report are built as this, and this one shape becomes the printable page, the CSV and
the XLSX, so the three always say the same thing.

Money is kept in pence in the tables (``Column.kind == MONEY``) and turned into pounds
only here: the page shows "£1,234.50"; the files hold the number 1234.50 (a decimal
with two places, so a spreadsheet adds it up exactly). A cell that is ``Suppressed``
(an outcome figure for a group under 5) is empty in the files with the note column
saying why, and "Fewer than 5" on the page.

The CSV is one file: what the report is (title, organisation, period, when built), then
the sections one after another, each with a header row of its own, its rows and its
total row, every row starting with the section's name (so a spreadsheet filter on the
first column picks one section), with an empty row before each section. The
XLSX has a sheet "About" and then one sheet per section."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from budgets.ledger import format_pence
from core.exports import Cell, csv_bytes, xlsx_sheets_bytes

TEXT = "text"
MONEY = "money"
COUNT = "count"
PERCENT = "percent"
DATE = "date"

SUPPRESSED_TEXT = "Fewer than 5"
SUPPRESSED_NOTE = "Fewer than 5 answers: not shown"


class Suppressed:
    """A figure hidden to protect privacy (never a number, in any format)."""

    def __repr__(self) -> str:
        return "SUPPRESSED"


SUPPRESSED = Suppressed()


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT

    @property
    def numeric(self) -> bool:
        return self.kind in (MONEY, COUNT, PERCENT)


@dataclass
class Section:
    key: str
    title: str
    description: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    total: list[Any] | None = None
    empty_text: str = "Nothing to show for this period."
    # Outcome figures: the files get a "Note" column saying which figures are hidden.
    may_suppress: bool = False


@dataclass
class Report:
    title: str
    organisation_name: str
    period_label: str
    built_at: datetime.datetime
    sections: list[Section]
    notes: list[str] = field(default_factory=list)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def about_rows(self) -> list[list[Cell]]:
        rows: list[list[Cell]] = [
            ["Report", self.title],
            ["Organisation", self.organisation_name],
            ["Period", self.period_label],
            ["Built", self.built_at.strftime("%Y-%m-%d %H:%M")],
        ]
        rows.extend(["Note", note] for note in self.notes)
        return rows


def pounds(pence: int) -> Decimal:
    """Pence as pounds with two decimals, exactly (no float on the way)."""
    return (Decimal(pence) / 100).quantize(Decimal("0.01"))


def _file_cell(column: Column, value: Any) -> Cell:
    if value is None or isinstance(value, Suppressed):
        return None
    if column.kind == MONEY:
        return pounds(int(value))
    return value


def file_header(section: Section) -> list[str]:
    names = [c.name + (" (£)" if c.kind == MONEY else "") for c in section.columns]
    if section.may_suppress:
        names.append("Note")
    return names


def file_rows(section: Section) -> list[list[Cell]]:
    with_note = section.may_suppress
    rows: list[list[Cell]] = []
    for row in [*section.rows, *([section.total] if section.total else [])]:
        cells = [_file_cell(c, v) for c, v in zip(section.columns, row, strict=True)]
        if with_note:
            hidden = any(isinstance(v, Suppressed) for v in row)
            cells.append(SUPPRESSED_NOTE if hidden else "")
        rows.append(cells)
    return rows


def report_csv(report: Report) -> bytes:
    about = report.about_rows()
    header = [str(value) for value in about[0]]
    rows: list[Sequence[Cell]] = list(about[1:])
    for section in report.sections:
        rows.append([])
        rows.append(["Section", *file_header(section)])
        rows.extend([section.title, *row] for row in file_rows(section))
    return csv_bytes(header, rows)


def report_xlsx(report: Report) -> bytes:
    sheets: list[tuple[str, Sequence[str], list[list[Cell]]]] = [
        ("About", ["About this report", ""], report.about_rows())
    ]
    for section in report.sections:
        sheets.append((section.title, file_header(section), file_rows(section)))
    return xlsx_sheets_bytes(sheets)


def page_cell(column: Column, value: Any) -> str:
    """A value as the printable page shows it."""
    if isinstance(value, Suppressed):
        return SUPPRESSED_TEXT
    if value is None or value == "":
        return ""
    if column.kind == MONEY:
        return format_pence(int(value))
    if column.kind == PERCENT:
        return f"{value}%"
    if column.kind == COUNT:
        return f"{value:,}"
    if isinstance(value, datetime.date):
        return f"{value.day} {value:%B %Y}"
    return str(value)


def hidden_from(section: Section, row: list[Any]) -> int | None:
    """Where a row's figures start, if every one of them is suppressed (the page then
    says so once across them), else None."""
    numeric = [i for i, column in enumerate(section.columns) if column.numeric]
    if numeric and all(isinstance(row[i], Suppressed) for i in numeric):
        return numeric[0]
    return None
