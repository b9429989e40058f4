"""The web pages' strings in Dutch and English, and which language a request gets.

Strings are looked up in :data:`STRINGS` first, then in the digests' strings
(:data:`digests.i18n.STRINGS`), so a page can use ``t("week", week=48)`` as the mail
does. An area's page strings live in its module of :mod:`web.strings` (keys prefixed
with the area: ``search.title``), in both languages (a test checks that nl and en
have the same keys). Dates, numbers and plurals: the helpers of :mod:`digests.i18n`
(templates get ``number``, ``format_day``, ``count_noun``).

The language of a request (:func:`pick_language`): ``?lang=nl|en``, else the ``lang``
cookie (set when ``?lang=`` was used), else the best of the browser's
``Accept-Language``, else the language most subscribers in the config read, else Dutch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from digests import i18n as digest_i18n

LANGUAGES = ("nl", "en")
LANG_COOKIE = "lang"

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "nav.home": "Start",
        "nav.archive": "Archief",
        "nav.search": "Zoeken",
        "nav.watchlists": "Onderwerpen",
        "nav.subscribe": "Aanmelden",
        "nav.admin": "Beheer",
        "nav.language": "Taal",
        "nav.logout": "Afmelden als beheerder",
        "home.intro": "Het nieuws over je vakgebied, elke week samengevat.",
        "home.archive": "Alle edities van de digest, per week en per onderwerp.",
        "home.search": "Zoek in alle artikelen.",
        "home.watchlists": "Volg een onderwerp: de verhalen en hoe vaak het in het nieuws is.",
        "home.subscribe": "Ontvang de digest elke week per mail.",
        "home.topics": "Onderwerpen",
        "error.title": "Er ging iets mis",
        "error.400": "Dit verzoek klopt niet.",
        "error.403": "Dit mag je niet doen of zien.",
        "error.403.csrf": (
            "Het formulier is verlopen of komt niet van deze site. Laad de pagina opnieuw"
            " en probeer het nog eens."
        ),
        "error.403.admin": "Deze pagina is alleen voor de beheerder.",
        "error.404": "Deze pagina bestaat niet.",
        "error.404.archive_empty": "Er zijn nog geen edities.",
        "error.405": "Dat kan niet op deze pagina.",
        "error.413": "Dit verzoek is te groot.",
        "error.429": "Te veel pogingen. Probeer het later opnieuw.",
        "error.500": "Er ging iets mis aan onze kant. Probeer het later opnieuw.",
        "error.home": "Naar de startpagina",
        "login.title": "Aanmelden als beheerder",
        "login.token": "Beheerderstoken",
        "login.submit": "Aanmelden",
        "login.wrong": "Dat token klopt niet.",
        "login.too_many": "Te veel mislukte pogingen. Probeer het later opnieuw.",
        "login.not_configured": (
            "Er is geen beheerderstoken ingesteld: zet het in de omgevingsvariabele die"
            " [web] admin_token_env noemt (minstens 16 tekens)."
        ),
        "login.tokenless": (
            "Er is geen beheerderstoken nodig: de beheerpagina's openen alleen in een browser"
            " op deze computer (127.0.0.1)."
        ),
    },
    "en": {
        "nav.home": "Home",
        "nav.archive": "Archive",
        "nav.search": "Search",
        "nav.watchlists": "Topics",
        "nav.subscribe": "Subscribe",
        "nav.admin": "Admin",
        "nav.language": "Language",
        "nav.logout": "Sign out as admin",
        "home.intro": "The news of your field, summed up every week.",
        "home.archive": "Every edition of the digest, by week and by topic.",
        "home.search": "Search all articles.",
        "home.watchlists": "Follow a topic: its stories and how often it is in the news.",
        "home.subscribe": "Get the digest by e-mail every week.",
        "home.topics": "Topics",
        "error.title": "Something went wrong",
        "error.400": "This request is not right.",
        "error.403": "You may not do or see this.",
        "error.403.csrf": (
            "The form has expired or does not come from this site. Reload the page and try again."
        ),
        "error.403.admin": "This page is for the admin only.",
        "error.404": "This page does not exist.",
        "error.404.archive_empty": "There are no editions yet.",
        "error.405": "That cannot be done on this page.",
        "error.413": "This request is too large.",
        "error.429": "Too many attempts. Try again later.",
        "error.500": "Something went wrong on our side. Try again later.",
        "error.home": "To the home page",
        "login.title": "Sign in as admin",
        "login.token": "Admin token",
        "login.submit": "Sign in",
        "login.wrong": "That token is not right.",
        "login.too_many": "Too many failed attempts. Try again later.",
        "login.not_configured": (
            "No admin token is set: put it in the environment variable that"
            " [web] admin_token_env names (at least 16 characters)."
        ),
        "login.tokenless": (
            "No admin token is needed: the admin pages open only in a browser on this"
            " machine (127.0.0.1)."
        ),
    },
}


def _merge_areas() -> None:
    """Add each area's strings (:mod:`web.strings`) to :data:`STRINGS`."""
    from web.strings import admin, search, stories, subscribe, watchlists

    for area in (search, stories, watchlists, subscribe, admin):
        for lang, table in area.STRINGS.items():
            twice = STRINGS[lang].keys() & table.keys()
            if twice:
                raise RuntimeError(f"{area.__name__}: strings defined twice: {sorted(twice)}")
            STRINGS[lang].update(table)


_merge_areas()


def t(language: str, key: str, /, **values: object) -> str:
    """The string ``key`` in ``language`` (web strings, then the digests'), formatted."""
    lang = digest_i18n.language_of(language)
    text = STRINGS[lang].get(key)
    if text is None:
        return digest_i18n.t(lang, key, **values)
    return text.format(**values)


def supported(value: str | None) -> str | None:
    """``value`` if it names a supported language ("en", "EN", "nl-BE"), else None."""
    base = (value or "").strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (by q-value, then order)."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((header or "").split(",")[:50]):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        lang = supported(tag)
        if lang and 0 < quality <= 1 and (best is None or (-quality, index) < best[:2]):
            best = (-quality, index, lang)
    return best[2] if best else None


def config_language(subscriber_languages: list[str]) -> str:
    """The language most subscribers read (as the archive's index uses); else Dutch."""
    counts = Counter(lang for lang in subscriber_languages if lang in LANGUAGES)
    return counts.most_common(1)[0][0] if counts else digest_i18n.DEFAULT_LANGUAGE


def pick_language(
    query: str | None,
    cookies: Mapping[str, str],
    accept: str | None,
    subscriber_languages: list[str],
) -> str:
    """The language of a request (see the module docstring). Pure."""
    return (
        supported(query)
        or supported(cookies.get(LANG_COOKIE))
        or accept_language(accept)
        or config_language(subscriber_languages)
    )
