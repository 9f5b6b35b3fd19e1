"""Server-rendered SVG charts (no JavaScript, nothing inline the CSP would block).

A chart is an image to screen readers (``role="img"`` named by its <title> and <desc>);
the page shows the same figures in a table below it, which is what assistive technology
and anyone who cannot read the picture use. Colours are NHS.UK's: the line is NHS blue
and text is the secondary text colour, both above the contrast WCAG asks for on white."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 520, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 14, 14, 40
LINE = "#005eb8"  # NHS blue
TEXT = "#4c6272"  # NHS secondary text
GRID = "#d8dde0"  # NHS grey 4
ZERO = "#212b32"  # NHS text


@dataclass(frozen=True)
class Step:
    day: datetime.date
    value_pence: int


def _nice_step(span: int) -> int:
    """A round tick step (1, 2 or 5 times a power of ten) giving four to eight ticks."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if span / (step * factor) <= 6:
                return step * factor
        step *= 10


def _pounds_label(pence: int) -> str:
    pounds = pence // 100
    sign = "-" if pounds < 0 else ""
    return f"{sign}£{abs(pounds):,}"


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The first day of each month from ``start`` to ``end`` (inclusive)."""
    day = start.replace(day=1)
    if day < start:
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    months = []
    while day <= end:
        months.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def step_chart(
    steps: Sequence[Step],
    *,
    start: datetime.date,
    end: datetime.date,
    until: datetime.date,
    title: str,
    description: str,
    id_prefix: str = "chart",
) -> Markup:
    """A step line of a balance over time: it changes on the days in ``steps`` and holds
    its value between them, from ``start`` (zero before the first step) to ``until``
    (today, or the end of the period if that has passed). The x axis spans ``start`` to
    ``end``; the y axis always includes zero."""
    until = max(start, min(until, end))
    values = [0] + [s.value_pence for s in steps]
    low, high = min(values), max(values)
    step = _nice_step(max(high - low, 100_00))
    axis_low = (low // step) * step
    axis_high = -((-high) // step) * step
    if axis_high == axis_low:
        axis_high = axis_low + step
    days = max((end - start).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: datetime.date) -> float:
        return round(LEFT + plot_w * (day - start).days / days, 1)

    def y(pence: int) -> float:
        return round(TOP + plot_h * (axis_high - pence) / (axis_high - axis_low), 1)

    parts: list[str] = []
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
    )
    # Horizontal grid lines and pound labels.
    tick = axis_low
    while tick <= axis_high:
        colour = ZERO if tick == 0 else GRID
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick)}" y2="{y(tick)}" '
            f'stroke="{colour}" stroke-width="1"/>'
            f'<text x="{LEFT - 8}" y="{y(tick) + 4}" text-anchor="end" font-size="15" '
            f'fill="{TEXT}">{escape(_pounds_label(tick))}</text>'
        )
        tick += step
    # Month labels along the bottom; every other one when there are many.
    months = _months(start, end)
    every = 1 if len(months) <= 7 else 2
    for index, month in enumerate(months):
        if index % every:
            continue
        label = month.strftime("%b %Y" if index == 0 or month.month == 1 else "%b")
        parts.append(
            f'<line x1="{x(month)}" x2="{x(month)}" y1="{HEIGHT - BOTTOM}" '
            f'y2="{HEIGHT - BOTTOM + 5}" stroke="{TEXT}" stroke-width="1"/>'
            f'<text x="{x(month)}" y="{HEIGHT - BOTTOM + 20}" text-anchor="middle" '
            f'font-size="15" fill="{TEXT}">{escape(label)}</text>'
        )
    # The step line: flat until each change, then straight up or down.
    shown = [s for s in steps if start <= s.day <= until]
    points = [(x(start), y(0))]
    value = 0
    for s in shown:
        points.append((x(s.day), y(value)))
        value = s.value_pence
        points.append((x(s.day), y(value)))
    points.append((x(until), y(value)))
    path = " ".join(f"{px},{py}" for px, py in points)
    parts.append(
        f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="3" '
        f'stroke-linejoin="round"/>'
        f'<circle cx="{x(until)}" cy="{y(value)}" r="5" fill="{LINE}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
