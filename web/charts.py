"""Charts as SVG text, drawn on the server: pure functions, no I/O.

:func:`week_chart` turns counts per ISO week into a bar chart (:func:`bar_chart`). It
reads without colour: every bar carries its number as a text label, the week under it,
the year under the first week of each year, and a week that is not over yet is hatched
(a pattern, explained in a legend), not told apart by colour. The chart is an image with
a name and a description for screen readers (``role="img"``, ``<title>``, ``<desc>``),
and each bar has a ``<title>`` of its own (a tooltip: "Week 48 · 23–29 november 2026: 12
articles"). All text is escaped; ids come from a ``chart_id`` of letters, digits and
``-``. Colours and type are SVG presentation attributes, which the site's
Content-Security-Policy allows (it refuses ``style`` attributes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from pipeline.process.trends import parse_week

WIDTH = 720
HEIGHT = 230
TOP = 22  # room for the numbers above the highest bar
BOTTOM = 40  # room for the week and year labels
SIDE = 6
BAR_SHARE = 0.72  # of a bar's slot; the rest is the gap
INK = "#1a1a1a"
MUTED = "#6b6b6b"
BAR = "#c8102e"
RULE = "#dddddd"
FONT = "Arial, Helvetica, sans-serif"
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")


@dataclass(frozen=True)
class Bar:
    """One bar: its ``value``, the ``label`` under it, an optional second line under
    that (``note``: the year), its tooltip ``title``; ``partial``: hatched."""

    label: str
    value: int
    title: str
    note: str = ""
    partial: bool = False


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    desc: str,
    chart_id: str = "chart",
    partial_note: str = "",
    number: Callable[[int], str] = str,
) -> str:
    """An SVG bar chart of ``bars`` (left to right). ``title`` and ``desc`` name and
    describe it; ``partial_note`` explains the hatching in a legend when a bar is
    partial; ``number`` formats the values. Values below zero are drawn as zero."""
    if not _ID.match(chart_id):
        raise ValueError(f"chart_id must be letters, digits and '-', not {chart_id!r}")
    hatch = f"{chart_id}-hatch"
    top = TOP + (18 if partial_note and any(b.partial for b in bars) else 0)
    plot = HEIGHT - top - BOTTOM
    base = HEIGHT - BOTTOM
    highest = max([b.value for b in bars] + [1])
    slot = (WIDTH - 2 * SIDE) / max(len(bars), 1)
    width = slot * BAR_SHARE
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"'
        f' width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc"'
        f' font-family="{FONT}" font-size="11" fill="{INK}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#ffffff"/>'
        f'<rect width="2.5" height="6" fill="{BAR}"/></pattern></defs>',
        f'<line x1="{SIDE}" y1="{base}" x2="{WIDTH - SIDE}" y2="{base}" stroke="{MUTED}"'
        ' stroke-width="1"/>',
    ]
    for i, bar in enumerate(bars):
        value = max(bar.value, 0)
        height = plot * value / highest
        x = SIDE + i * slot + (slot - width) / 2
        middle = _num(SIDE + i * slot + slot / 2)
        fill = f"url(#{hatch})" if bar.partial else BAR
        stroke = f' stroke="{BAR}" stroke-width="1"' if bar.partial else ""
        out.append(f"<g><title>{escape(bar.title)}</title>")
        out.append(
            f'<rect x="{_num(x)}" y="{_num(base - height)}" width="{_num(width)}"'
            f' height="{_num(height)}" fill="{fill}"{stroke}/>'
        )
        out.append(
            f'<text x="{middle}" y="{_num(base - height - 4)}" text-anchor="middle">'
            f"{escape(number(value))}</text>"
        )
        out.append(
            f'<text x="{middle}" y="{base + 14}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(bar.label)}</text>"
        )
        if bar.note:
            out.append(
                f'<text x="{middle}" y="{base + 30}" text-anchor="middle" fill="{MUTED}">'
                f"{escape(bar.note)}</text>"
            )
        out.append("</g>")
    if partial_note and any(b.partial for b in bars):
        out.append(
            f'<g><rect x="{WIDTH - SIDE - 14}" y="4" width="14" height="12"'
            f' fill="url(#{hatch})" stroke="{BAR}" stroke-width="1"/>'
            f'<text x="{WIDTH - SIDE - 20}" y="14" text-anchor="end">'
            f"{escape(partial_note)}</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out)


def week_bars(
    counts: Sequence[tuple[str, int]],
    *,
    current: str | None = None,
    bar_title: Callable[[str, int], str] | None = None,
) -> list[Bar]:
    """A bar per ISO week (``("2026-W48", 12)``, oldest first): labelled with the week's
    number, the year under the first bar and under each year's first week, the week
    ``current`` (not over yet) partial. ``bar_title(week, count)`` is each tooltip."""
    bars: list[Bar] = []
    year_shown: int | None = None
    for week, count in counts:
        year, number = parse_week(week)
        note = str(year) if year != year_shown else ""
        year_shown = year
        title = bar_title(week, count) if bar_title else f"{week}: {count}"
        bars.append(Bar(f"{number}", count, title, note, week == current))
    return bars


def week_chart(
    counts: Sequence[tuple[str, int]],
    *,
    title: str,
    desc: str,
    current: str | None = None,
    bar_title: Callable[[str, int], str] | None = None,
    partial_note: str = "",
    chart_id: str = "weeks",
    number: Callable[[int], str] = str,
) -> str:
    """Counts per ISO week (oldest first) as an SVG bar chart; see :func:`week_bars`
    and :func:`bar_chart`."""
    bars = week_bars(counts, current=current, bar_title=bar_title)
    return bar_chart(
        bars, title=title, desc=desc, chart_id=chart_id, partial_note=partial_note, number=number
    )
