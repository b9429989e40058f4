"""The sources part of ``trendwatch status`` as lines of text for a terminal.

One line per source, and under it a details line only where there is something to
say (the last error of a failing source, a Retry-After, a permanent move, why it was
disabled, a warning). The columns that always fit an 80-column terminal come first;
a wider terminal gets more (type, poll interval, errors in a row, time of the last
error). Times are local and without the year when it is this year. No line is longer
than the width: a details line too long for it ends in "…" (``status --json`` has it
whole). Pure functions of the data that ``pipeline.status.status_data`` returns, in
the command line's language (pipeline.cli.i18n); what the data says in words (an
error, a warning, why a source was disabled) stays as the data has it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.text import Text

from pipeline.cli.i18n import DEFAULT_LANGUAGE, t
from pipeline.cli.strings import STRINGS

GAP = "  "
DETAIL_INDENT = "  "
NAME_CAP = 30  # a longer source name may be cut ("…") to make room for a column

# the health as `status --json` says it -> the word in the table
SHORT_HEALTH = {
    "gone, disabled": "gone",
    "disabled in config": "disabled",
    "ok, with warning": "warning",
}
_HEALTH_STYLE = {
    "ok": "green",
    "warning": "yellow",
    "rate limited": "yellow",
    "never fetched": "cyan",
    "disabled": "dim",
    "gone": "red",
}


def short_time(stamp: str | None, tz: ZoneInfo, now: datetime) -> str:
    """A stored time, local: "5 Dec 07:22" in ``now``'s year, else "12 Mar 2025";
    "-" for none."""
    if not stamp:
        return "-"
    local = datetime.fromisoformat(stamp).astimezone(tz)
    day = f"{local.day} {t('months').split()[local.month - 1]}"
    if local.year != now.astimezone(tz).year:
        return f"{day} {local.year}"
    return f"{day} {local:%H:%M}"


def duration_text(seconds: int) -> str:
    """Like "1d", "6h", "72m": whole days or hours when exact, else minutes (in Dutch
    "6u" for hours)."""
    days, hours, minutes, secs = t("duration.units").split()
    for unit, size in ((days, 86400), (hours, 3600)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{round(seconds / 60)}{minutes}" if seconds >= 60 else f"{seconds}{secs}"


def health_word(source: dict[str, Any]) -> str:
    """The source's health in one or two short words: "ok", "warning", "failing (3x)",
    "rate limited", "gone", "disabled", "never fetched" (English: it picks the style)."""
    return SHORT_HEALTH.get(source["health"], source["health"])


def health_text(source: dict[str, Any]) -> str:
    """:func:`health_word` in the command line's language ("faalt (3x)")."""
    word = health_word(source)
    if word.startswith("failing (") and source.get("consecutive_errors") is not None:
        return t("health.failing", count=source["consecutive_errors"])
    key = f"health.{word}"
    return t(key) if key in STRINGS[DEFAULT_LANGUAGE] else word  # a health not known here


def _health_style(source: dict[str, Any]) -> str:
    word = health_word(source)
    return "red" if word.startswith("failing") else _HEALTH_STYLE.get(word, "")


def _later(stamp: str | None, now: datetime) -> bool:
    return bool(stamp) and datetime.fromisoformat(stamp) > now


def source_details(source: dict[str, Any], tz: ZoneInfo, now: datetime) -> str:
    """What else there is to say about a source, in one line ("" when nothing)."""
    parts = []
    if source["disabled_reason"]:
        parts.append(t("sources.not_polled", reason=source["disabled_reason"]))
    elif _later(source["retry_after"], now):
        parts.append(t("sources.no_poll_before", when=short_time(source["retry_after"], tz, now)))
    if source["consecutive_errors"] and source["last_error"] and not source["disabled_reason"]:
        when = short_time(source["last_error_at"], tz, now)
        parts.append(t("sources.error", when=when, error=source["last_error"]))
    if source["moved_from"]:
        parts.append(t("sources.moved", url=source["url"]))
    if source["warning"]:
        parts.append(source["warning"])
    return "; ".join(" ".join(p.split()) for p in parts)


def _next_poll(source: dict[str, Any], tz: ZoneInfo, now: datetime) -> str:
    if source["disabled_reason"] or not source["enabled"]:
        return "-"
    if not _later(source["next_poll"], now):
        return t("sources.due")
    return short_time(source["next_poll"], tz, now)


@dataclass(frozen=True)
class _Column:
    key: str  # its header is the string sources.col.KEY
    cell: Callable[[dict[str, Any], ZoneInfo, datetime], str]
    right: bool = False  # numbers
    optional: int = 0  # 0: always shown; else the order in which wider terminals add it


# in the order shown; ``optional`` says which of them a wider terminal adds first
_COLUMNS = (
    _Column("type", lambda s, tz, now: s["type"], optional=1),
    _Column("health", lambda s, tz, now: health_text(s)),
    _Column("articles", lambda s, tz, now: str(s["articles"]), right=True),
    _Column("errors", lambda s, tz, now: str(s["consecutive_errors"]), right=True, optional=3),
    _Column("last_ok", lambda s, tz, now: short_time(s["last_success"], tz, now)),
    _Column(
        "last_error",
        lambda s, tz, now: short_time(s["last_error_at"], tz, now),
        optional=4,
    ),
    _Column("next_poll", _next_poll),
    _Column(
        "every",
        lambda s, tz, now: duration_text(s["poll_interval"]) if s["poll_interval"] else "-",
        optional=2,
    ),
)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def source_lines(
    sources: Sequence[dict[str, Any]], *, width: int, timezone: str, now: datetime
) -> list[Text]:
    """The sources as a table of at most ``width`` columns: a header, one line per
    source, and a details line under the sources that have something to say."""
    tz = ZoneInfo(timezone)
    headers = [t(f"sources.col.{c.key}") for c in _COLUMNS]
    first = t("sources.col.source")
    cells = [[c.cell(s, tz, now) for c in _COLUMNS] for s in sources]
    widths = [max([len(headers[i])] + [len(row[i]) for row in cells]) for i in range(len(_COLUMNS))]
    # the names come first: a wider column is added only while every name (up to
    # NAME_CAP characters) still fits whole
    names = min(NAME_CAP, max([len(first)] + [len(s["name"]) for s in sources]))
    shown = [not c.optional for c in _COLUMNS]

    def room() -> int:  # what is left for the source names
        used = sum(w + len(GAP) for w, on in zip(widths, shown, strict=True) if on)
        return width - used

    for i in sorted(range(len(_COLUMNS)), key=lambda i: _COLUMNS[i].optional):
        if not shown[i]:
            shown[i] = True
            if room() < names:
                shown[i] = False
                break
    name_width = max(1, min(names, room()))
    columns = [(i, c) for i, c in enumerate(_COLUMNS) if shown[i]]

    def line(name: str, values: list[str], styles: dict[int, str] | None = None) -> Text:
        text = Text(_fit(name, name_width).ljust(name_width))
        for i, c in columns:
            value = values[i].rjust(widths[i]) if c.right else values[i].ljust(widths[i])
            text.append(GAP)
            text.append(value, style=(styles or {}).get(i, ""))
        text.rstrip()
        return text

    out = [line(first, headers, dict.fromkeys(range(len(_COLUMNS)), "bold"))]
    out[0].stylize("bold", 0, len(first))
    health = next(i for i, c in enumerate(_COLUMNS) if c.key == "health")
    for source, row in zip(sources, cells, strict=True):
        out.append(line(source["name"], row, {health: _health_style(source)}))
        details = source_details(source, tz, now)
        if details:
            out.append(Text(_fit(DETAIL_INDENT + details, width)))
    return out
