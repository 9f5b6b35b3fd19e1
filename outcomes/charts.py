"""Outcome charts as server-rendered SVG: one horizontal bar per area, split into worse,
about the same and better, with the national reference figure for "better" marked where
one exists. The house way (budgets/charts.py): an image to screen readers, named by its
<title> and <desc>, presentation attributes only (the CSP forbids style attributes), and
the same figures in a table beside it, which is what assistive technology reads.

Colours are NHS.UK's. Each part of a bar is separated by a white gap and labelled with
its percentage in text of enough contrast (white on NHS blue and purple, NHS text colour
on grey), so the bar is read by its labels and does not rest on telling colours apart.
A suppressed area is drawn as words, never as a bar."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from outcomes.reports import AreaFigures

WIDTH = 560
LEFT, RIGHT = 4, 4
ROW = 58
BAR = 24
LEGEND = 34
TEXT = "#212b32"  # NHS text
SECONDARY = "#4c6272"  # NHS secondary text
WHITE = "#ffffff"
PARTS = (
    # (field, label, fill, text colour on the fill)
    ("worse", "Worse", "#330072", WHITE),  # NHS purple
    ("same", "About the same", "#aeb7bd", TEXT),  # NHS grey 3
    ("better", "Better", "#005eb8", WHITE),  # NHS blue
)
MARKER = "#212b32"


def _percent_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('1'))}%"


def outcome_chart(
    areas: Sequence[AreaFigures],
    *,
    references: Mapping[str, Decimal] | None = None,
    title: str,
    description: str,
    id_prefix: str = "outcomes-chart",
) -> Markup:
    """One bar per area (worse, the same, better, left to right, as percentages of n);
    ``references`` maps an area to the national "better" percentage to mark."""
    references = references or {}
    height = LEGEND + ROW * len(areas) + 8
    plot = WIDTH - LEFT - RIGHT
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
    ]
    # Legend.
    x = LEFT
    for _, label, fill, _ in PARTS:
        parts.append(
            f'<rect x="{x}" y="6" width="16" height="16" fill="{fill}" stroke="{TEXT}" '
            f'stroke-width="1"/><text x="{x + 22}" y="19" font-size="15" fill="{TEXT}">'
            f"{escape(label)}</text>"
        )
        x += 32 + len(label) * 8
    if references:
        parts.append(
            f'<line x1="{x + 8}" x2="{x + 8}" y1="4" y2="24" stroke="{MARKER}" '
            f'stroke-width="3"/><text x="{x + 16}" y="19" font-size="15" fill="{TEXT}">'
            f"National figure for better</text>"
        )
    for index, figures in enumerate(areas):
        top = LEGEND + index * ROW
        bar_top = top + 22
        parts.append(
            f'<text x="{LEFT}" y="{top + 16}" font-size="15" font-weight="bold" '
            f'fill="{TEXT}">{escape(figures.label)}</text>'
        )
        if figures.suppressed:
            parts.append(
                f'<text x="{LEFT}" y="{bar_top + 17}" font-size="15" fill="{SECONDARY}">'
                f"Fewer than 5 answers: not shown</text>"
            )
            continue
        x_at = float(LEFT)
        for field, _label, fill, ink in PARTS:
            share = getattr(figures, f"{field}_percent") or Decimal(0)
            width = round(plot * float(share) / 100, 1)
            if width <= 0:
                continue
            parts.append(
                f'<rect x="{round(x_at, 1)}" y="{bar_top}" width="{width}" height="{BAR}" '
                f'fill="{fill}" stroke="{WHITE}" stroke-width="2"/>'
            )
            text = _percent_text(share)
            if width >= 12 + 9 * len(text):
                parts.append(
                    f'<text x="{round(x_at + width / 2, 1)}" y="{bar_top + 17}" '
                    f'font-size="15" text-anchor="middle" fill="{ink}">{escape(text)}</text>'
                )
            x_at += width
        reference = references.get(figures.area)
        if reference is not None:
            # Better is the right-hand part: the national share of better starts this far
            # from the right.
            marker = round(LEFT + plot * (1 - float(reference) / 100), 1)
            parts.append(
                f'<line x1="{marker}" x2="{marker}" y1="{bar_top - 4}" y2="{bar_top + BAR + 4}" '
                f'stroke="{MARKER}" stroke-width="3"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def chart_description(areas: Sequence[AreaFigures]) -> str:
    """A one-sentence summary for the chart's <desc>: the area with the largest share
    saying better, and how many areas are not shown."""
    shown = [a for a in areas if not a.suppressed and a.better_percent is not None]
    hidden = len(areas) - len(shown)
    sentences = []
    if shown:
        best = max(shown, key=lambda a: a.better_percent or Decimal(0))
        sentences.append(
            f"The largest share saying better is {_percent_text(best.better_percent or Decimal(0))}"
            f" for {best.label.lower()}."
        )
    else:
        sentences.append("No area has enough answers to show.")
    if hidden:
        sentences.append(f"{hidden} areas have fewer than 5 answers and are not shown.")
    sentences.append("The table gives every figure.")
    return " ".join(sentences)
