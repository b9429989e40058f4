"""Fixed UI strings (nl, en) and locale-aware formatting of dates, periods and numbers.

Strings are plain ``str.format`` templates; the values put into them are plain text and
are escaped by the (autoescaping) HTML templates afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal

DEFAULT_LANGUAGE = "nl"

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "week": "Week {week}",
        "article.one": "artikel",
        "article.other": "artikelen",
        "subject": "{title} · week {week}: {count} {noun}",
        "intro": "Deze week: {parts}.",
        "intro.first": "{count} {noun} over {title}",
        "intro.next": "{count} over {title}",
        "intro.none": "Deze week niets nieuws.",
        "matched": "Gevonden op: {words}",
        "more": "+{count} meer in het archief",
        "more.not_kept": "+{count} meer deze week",
        "quiet": "Geen nieuws over {title} deze week.",
        "also_in": "Ook bij",
        "also_under": "ook onder {title}",
        "related": "Lees ook",
        "trends.title": "Stijgend deze week",
        "trends.ratio": "{ratio}× zo vaak als gewoonlijk",
        "trends.new": "nieuw",
        "trends.in": "in {title}",
        "footer.reason": (
            "Je ontvangt deze mail omdat je je hebt aangemeld voor {digest} ({watchlists}) "
            "met {email}."
        ),
        "footer.web": "Deze editie gaat over: {watchlists}.",
        "footer.view_online": "Bekijk deze mail in je browser",
        "footer.manage": "Je abonnement beheren",
        "footer.unsubscribe": "Afmelden",
        "footer.unsubscribe_mailto": "Afmelden kan ook met een mail aan {address}.",
        "footer.sent_by": "Verzonden door {sender}",
        "archive.all": "Alle edities",
        "index.intro": "Alle edities, de nieuwste bovenaan.",
        "index.empty": "Er zijn nog geen edities.",
        "index.count": "{count} {noun}",
        "index.years": "Per jaar",
        "index.watchlists": "Per onderwerp",
        "index.feed": "Atom-feed met alle edities",
        "year.title": "{title} · {year}",
        "year.intro": "Alle edities van {year}, de nieuwste bovenaan.",
        "watchlist.title": "{title} · {watchlist}",
        "watchlist.intro": "Alle edities over {watchlist}, de nieuwste bovenaan.",
        "watchlist.quiet": "geen nieuws",
        "edition.one": "editie",
        "edition.other": "edities",
    },
    "en": {
        "week": "Week {week}",
        "article.one": "article",
        "article.other": "articles",
        "subject": "{title} · week {week}: {count} {noun}",
        "intro": "This week: {parts}.",
        "intro.first": "{count} {noun} on {title}",
        "intro.next": "{count} on {title}",
        "intro.none": "Nothing new this week.",
        "matched": "Matched: {words}",
        "more": "+{count} more in the archive",
        "more.not_kept": "+{count} more this week",
        "quiet": "Nothing new on {title} this week.",
        "also_in": "Also in",
        "also_under": "also under {title}",
        "related": "Read also",
        "trends.title": "Rising this week",
        "trends.ratio": "{ratio}× usual",
        "trends.new": "new",
        "trends.in": "in {title}",
        "footer.reason": (
            "You are receiving this e-mail because you signed up for {digest} ({watchlists}) "
            "with {email}."
        ),
        "footer.web": "This edition covers: {watchlists}.",
        "footer.view_online": "View this e-mail in your browser",
        "footer.manage": "Manage your subscription",
        "footer.unsubscribe": "Unsubscribe",
        "footer.unsubscribe_mailto": "You can also unsubscribe by e-mailing {address}.",
        "footer.sent_by": "Sent by {sender}",
        "archive.all": "All editions",
        "index.intro": "All editions, newest first.",
        "index.empty": "There are no editions yet.",
        "index.count": "{count} {noun}",
        "index.years": "By year",
        "index.watchlists": "By topic",
        "index.feed": "Atom feed of all editions",
        "year.title": "{title} · {year}",
        "year.intro": "All editions of {year}, newest first.",
        "watchlist.title": "{title} · {watchlist}",
        "watchlist.intro": "All editions on {watchlist}, newest first.",
        "watchlist.quiet": "nothing new",
        "edition.one": "edition",
        "edition.other": "editions",
    },
}


def language_of(language: str | None) -> str:
    """The supported language for ``language`` ("nl-BE" -> "nl"); unknown -> default."""
    base = (language or "").replace("_", "-").split("-")[0].lower()
    return base if base in STRINGS else DEFAULT_LANGUAGE


def t(language: str, key: str, /, **values: object) -> str:
    """The UI string ``key`` in ``language``, formatted with ``values``."""
    return STRINGS[language_of(language)][key].format(**values)


def number(value: int | float, language: str) -> str:
    """A number formatted for the language: 1234 -> "1.234" (nl), "1,234" (en)."""
    return _decimal(value, None, language_of(language))


def ratio(value: float, language: str) -> str:
    """A "times as often" factor with at most one decimal: 3.24 -> "3,2" (nl), "3.2" (en)."""
    return _decimal(value, "#,##0.#", language_of(language))


# a digest run formats the same few counts thousands of times (babel parses the
# locale and the pattern each time): each (value, its type, pattern, language) once
@functools.lru_cache(maxsize=4096, typed=True)
def _decimal(value: int | float, pattern: str | None, language: str) -> str:
    return format_decimal(value, format=pattern, locale=language)


@functools.lru_cache(maxsize=4096, typed=True)
def _plural_form(language: str, count: int) -> str:
    return Locale.parse(language).plural_form(count)


def plural_in(table: Mapping[str, str], language: str, key: str, count: int) -> str:
    """The plural form of ``key`` for ``count`` (CLDR rules) in ``table``, the strings
    of ``language``: ``key.one`` / ``key.other``."""
    return table.get(f"{key}.{_plural_form(language_of(language), count)}", table[f"{key}.other"])


def plural(language: str, key: str, count: int) -> str:
    """The plural form of ``key`` for ``count`` (CLDR rules): ``key.one`` / ``key.other``."""
    lang = language_of(language)
    return plural_in(STRINGS[lang], lang, key, count)


def count_noun(language: str, count: int, key: str = "article") -> str:
    """ "12 artikelen", "1 article": a localised number and the matching noun."""
    return t(
        language, "index.count", count=number(count, language), noun=plural(language, key, count)
    )


def join_list(values: Iterable[str], language: str) -> str:
    """ "a, b en c" (nl) / "a, b and c" (en)."""
    return format_list(list(values), locale=language_of(language))


def local_date(moment: datetime, timezone: str | None) -> date:
    """The calendar date of ``moment`` in ``timezone`` (or in its own zone when None)."""
    if timezone:
        moment = moment.astimezone(ZoneInfo(timezone))
    return moment.date()


def format_day(moment: datetime, language: str, timezone: str | None = None) -> str:
    """A short date: "24 nov 2026" (nl), "24 Nov 2026" (en)."""
    return _short_date(local_date(moment, timezone), language_of(language))


@functools.lru_cache(maxsize=1024)
def _short_date(day: date, language: str) -> str:
    return format_date(day, "d MMM y", locale=language)


def format_period(
    start: datetime, end: datetime, language: str, timezone: str | None = None
) -> str:
    """A date range: "23–29 november 2026", "30 november – 6 december 2026",
    "28 december 2026 – 3 januari 2027" (month names from babel).

    An ``end`` exactly at local midnight is taken as exclusive (the day before is shown).
    """
    lang = language_of(language)
    first = local_date(start, timezone)
    local_end = end.astimezone(ZoneInfo(timezone)) if timezone else end
    last = local_end.date()
    if local_end.timetz().replace(tzinfo=None) == time(0) and last > first:
        last -= timedelta(days=1)

    def fmt(day: date, pattern: str) -> str:
        return format_date(day, pattern, locale=lang)

    if first == last:
        return fmt(last, "d MMMM y")
    if (first.year, first.month) == (last.year, last.month):
        return f"{fmt(first, 'd')}–{fmt(last, 'd MMMM y')}"
    if first.year == last.year:
        return f"{fmt(first, 'd MMMM')} – {fmt(last, 'd MMMM y')}"
    return f"{fmt(first, 'd MMMM y')} – {fmt(last, 'd MMMM y')}"


def week_period(
    week: int, start: datetime, end: datetime, language: str, timezone: str | None = None
) -> str:
    """ "Week 48 · 23–29 november 2026"."""
    return f"{t(language, 'week', week=week)} · {format_period(start, end, language, timezone)}"
