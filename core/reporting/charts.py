"""The dashboard's charts as server-rendered SVG, the house way (``budgets/charts.py``,
``outcomes/charts.py``): an image to screen readers named by its <title> and <desc>,
presentation attributes only (the CSP forbids style attributes), and the same figures
in a table beside it. Every bar is labelled with its name and its figure in text, so
nothing rests on telling colours apart; the bars are NHS blue on white and the text NHS
text colour, both well above the contrast WCAG asks for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 420
LABEL_ROW = 22
FONT = 17
BAR = 20
ROW = LABEL_ROW + BAR + 12
TEXT = "#212b32"  # NHS text
SECONDARY = "#4c6272"  # NHS secondary text
BLUE = "#005eb8"  # NHS blue
TRACK = "#d8dde0"  # NHS grey 4
TARGET = "#330072"  # NHS purple


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the figure as shown, e.g. "1,204" or "£3,400"


def _open(title: str, description: str, height: int, id_prefix: str) -> str:
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{title_id} {desc_id}" focusable="false">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
    )


def bar_chart(bars: Sequence[Bar], *, title: str, description: str, id_prefix: str) -> Markup:
    """One horizontal bar per line, its label above it and its figure at its end; the
    longest bar spans the chart less room for the figure. Negative values draw no bar
    (the figure still shows)."""
    height = max(ROW * len(bars), ROW) + 4
    parts = [_open(title, description, height, id_prefix)]
    if not bars:
        parts.append(
            f'<text x="0" y="26" font-size="{FONT}" fill="{SECONDARY}">Nothing to show</text>'
        )
    longest = max((b.value for b in bars), default=0)
    room = WIDTH - 110
    for index, bar in enumerate(bars):
        top = index * ROW
        bar_top = top + LABEL_ROW + 2
        width = round(room * bar.value / longest, 1) if longest > 0 and bar.value > 0 else 0
        parts.append(
            f'<text x="0" y="{top + 17}" font-size="{FONT}" fill="{TEXT}">'
            f"{escape(bar.label)}</text>"
        )
        if width:
            parts.append(
                f'<rect x="0" y="{bar_top}" width="{max(width, 2)}" height="{BAR}" fill="{BLUE}"/>'
            )
        parts.append(
            f'<text x="{width + 8}" y="{bar_top + 16}" font-size="{FONT}" font-weight="bold" '
            f'fill="{TEXT}">{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def share_chart(
    *,
    share_basis_points: int,
    target_basis_points: int | None,
    title: str,
    description: str,
    id_prefix: str,
) -> Markup:
    """One bar from 0% to 100% filled to the share, with the target marked by a
    labelled line."""
    height = 84
    plot = WIDTH - 8
    parts = [_open(title, description, height, id_prefix)]
    filled = round(plot * min(share_basis_points, 10000) / 10000, 1)
    parts.append(
        f'<rect x="4" y="30" width="{plot}" height="{BAR + 4}" fill="{TRACK}" '
        f'stroke="{SECONDARY}" stroke-width="1"/>'
    )
    if filled > 0:
        parts.append(f'<rect x="4" y="30" width="{filled}" height="{BAR + 4}" fill="{BLUE}"/>')
    parts.append(
        f'<text x="4" y="20" font-size="15" font-weight="bold" fill="{TEXT}">'
        f"Share now: {escape(percent_text(share_basis_points))}</text>"
    )
    if target_basis_points is not None:
        marker = round(4 + plot * min(target_basis_points, 10000) / 10000, 1)
        anchor = "end" if marker > WIDTH / 2 else "start"
        shift = -6 if anchor == "end" else 6
        parts.append(
            f'<line x1="{marker}" x2="{marker}" y1="24" y2="{30 + BAR + 12}" '
            f'stroke="{TARGET}" stroke-width="4"/>'
            f'<text x="{marker + shift}" y="{30 + BAR + 24}" font-size="15" '
            f'text-anchor="{anchor}" fill="{TEXT}">'
            f"Target: {escape(percent_text(target_basis_points))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def percent_text(basis_points: int | None) -> str:
    """12.5% for 1250 (one decimal place, rounded half up); a dash for None."""
    if basis_points is None:
        return "\u2013"
    tenths = (basis_points + 5) // 10
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}%" if tenth else f"{whole}%"
