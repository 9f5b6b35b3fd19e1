"""Financial years and quarters, as every report and snapshot names them.

The NHS financial year runs from 1 April to 31 March; year 2026 is April 2026 to March
2027 ("2026/27"). Quarter 1 is April to June. A period's key is "2026" for the year and
"2026Q1" for a quarter; the snapshot tables and the URLs use the key.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

_KEY = re.compile(r"^(?P<year>20[0-9]{2})(?:Q(?P<quarter>[1-4]))?$")
_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

# How many financial years the dashboard snapshots keep: this year and last.
YEARS_KEPT = 2


def financial_year_of(day: datetime.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def quarter_of(day: datetime.date) -> int:
    return (day.month - 4) % 12 // 3 + 1


@dataclass(frozen=True)
class Period:
    financial_year: int
    quarter: int | None = None  # None for the whole year

    @classmethod
    def parse(cls, key: str) -> Period:
        """The period a key names; ValueError for anything else."""
        match = _KEY.match(key or "")
        if match is None:
            raise ValueError(f"Not a period: {key!r}")
        quarter = match["quarter"]
        return cls(int(match["year"]), int(quarter) if quarter else None)

    @classmethod
    def year_of(cls, day: datetime.date) -> Period:
        return cls(financial_year_of(day))

    @classmethod
    def quarter_containing(cls, day: datetime.date) -> Period:
        return cls(financial_year_of(day), quarter_of(day))

    @property
    def key(self) -> str:
        return f"{self.financial_year}" + (f"Q{self.quarter}" if self.quarter else "")

    @property
    def start(self) -> datetime.date:
        if self.quarter is None:
            return datetime.date(self.financial_year, 4, 1)
        month = 4 + 3 * (self.quarter - 1)
        year = self.financial_year + (month - 1) // 12
        return datetime.date(year, (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> datetime.date:
        """The last day of the period."""
        if self.quarter is None:
            return datetime.date(self.financial_year + 1, 3, 31)
        nxt = Period(self.financial_year, self.quarter + 1) if self.quarter < 4 else None
        following = nxt.start if nxt else datetime.date(self.financial_year + 1, 4, 1)
        return following - datetime.timedelta(days=1)

    @property
    def year(self) -> Period:
        return Period(self.financial_year)

    @property
    def year_label(self) -> str:
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        """ "2026/27" or "Q1 2026/27 (April to June 2026)"."""
        if self.quarter is None:
            return self.year_label
        start, end = self.start, self.end
        return (
            f"Q{self.quarter} {self.year_label} "
            f"({_MONTH_NAMES[start.month - 1]} to {_MONTH_NAMES[end.month - 1]} {end.year})"
        )

    @property
    def quarters(self) -> list[Period]:
        """The quarters of a year (a quarter's only quarter is itself)."""
        if self.quarter is not None:
            return [self]
        return [Period(self.financial_year, q) for q in range(1, 5)]

    def ends_by(self, day: datetime.date) -> datetime.date:
        """The period's last day, or ``day`` if the period is not over by then."""
        return min(self.end, day)

    def __str__(self) -> str:
        return self.label


def periods_kept(today: datetime.date) -> list[Period]:
    """The periods the dashboard snapshots hold on ``today``: this financial year and
    the one before, each as a whole and by quarter, up to the quarter ``today`` is in.
    Newest first."""
    this_year = financial_year_of(today)
    current = Period.quarter_containing(today)
    kept: list[Period] = []
    for year in range(this_year, this_year - YEARS_KEPT, -1):
        kept.append(Period(year))
        kept.extend(q for q in reversed(Period(year).quarters) if q.start <= current.start)
    return kept


def last_completed_quarter(today: datetime.date) -> Period:
    """The latest quarter that ended before ``today``."""
    current = Period.quarter_containing(today)
    if current.quarter == 1:
        return Period(current.financial_year - 1, 4)
    return Period(current.financial_year, (current.quarter or 1) - 1)


# The postcode area (``marketplace.matching.postcode_area``: "LS" for "LS6 1AB") in SQL,
# for the snapshot queries: ``POSTCODE_AREA_SQL % "h.postcode"``.
POSTCODE_AREA_SQL = "coalesce(substring(upper(%s) from '^[A-Z]{1,2}'), '')"
