"""What the command line prints, in Dutch or English: the language of a run and the
lookup of its strings (:mod:`pipeline.cli.strings`).

The language (:func:`choose_language`, pure): ``trendwatch --lang nl|en``, else
``$TRENDWATCH_LANG``, else the config's top-level ``language``, else the locale
(``$LC_ALL``, ``$LC_MESSAGES``, ``$LANG``: the first one set decides; starting with
``nl`` is Dutch), else English. The root group sets it for the run
(:func:`use_language`, undone when the run ends) from all but the config, and
:meth:`pipeline.cli.common.Context.settings` again once the config is read.

Only what the CLI prints for the user is translated; the logs stay English (they are
for operators, and grepped). Counts get the noun in the language's plural form (CLDR,
through :func:`digests.i18n.plural_in`); numbers are printed as digits, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar, Token

from digests.i18n import plural_in
from pipeline.cli.strings import LANGUAGES, STRINGS

DEFAULT_LANGUAGE = "en"
LANG_ENV = "TRENDWATCH_LANG"
LOCALE_ENVS = ("LC_ALL", "LC_MESSAGES", "LANG")

_language: ContextVar[str] = ContextVar("trendwatch_cli_language", default=DEFAULT_LANGUAGE)


def parse_language(value: str, what: str) -> str:
    """``value`` as one of :data:`LANGUAGES` ("NL", "nl_NL.UTF-8" -> "nl"); ValueError
    naming ``what`` (where it came from) and what is expected otherwise."""
    base = value.strip().replace("_", "-").split(".")[0].split("-")[0].lower()
    if base not in LANGUAGES:
        raise ValueError(f"{what}: expected one of: {', '.join(LANGUAGES)}, got {value!r}")
    return base


def locale_language(environ: Mapping[str, str]) -> str | None:
    """Dutch when the locale's messages are Dutch: the first of $LC_ALL, $LC_MESSAGES
    and $LANG that is set (POSIX order) starts with ``nl``; else None."""
    for name in LOCALE_ENVS:
        value = environ.get(name)
        if value:
            return "nl" if value.lower().startswith("nl") else None
    return None


def choose_language(
    option: str | None, environ: Mapping[str, str], config: str | None = None
) -> str:
    """The CLI's language: ``option`` (``--lang``), else $TRENDWATCH_LANG, else
    ``config`` (the config's ``language``), else the locale, else English.
    ValueError for a $TRENDWATCH_LANG that is neither nl nor en."""
    if option:
        return parse_language(option, "--lang")
    if environ.get(LANG_ENV):
        return parse_language(environ[LANG_ENV], f"${LANG_ENV}")
    return config or locale_language(environ) or DEFAULT_LANGUAGE


def use_language(language: str) -> Token[str]:
    """Speak ``language`` from now on (in this context); the token undoes it."""
    return _language.set(language)


def reset_language(token: Token[str]) -> None:
    _language.reset(token)


def current_language() -> str:
    return _language.get()


def t(key: str, /, **values: object) -> str:
    """The string ``key`` in the current language, formatted with ``values``."""
    return STRINGS[_language.get()][key].format(**values)


def count(number: int, noun: str) -> str:
    """ "1 bron", "3 bronnen"; "1 source", "3 sources": ``number`` and the noun
    ``noun`` (keys ``noun.one`` and ``noun.other``) in the form the number takes."""
    language = _language.get()
    return f"{number} {plural_in(STRINGS[language], language, noun, number)}"


def decimal(value: float, places: int = 1) -> str:
    """``value`` with ``places`` decimals: "1.5" (en), "1,5" (nl)."""
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if _language.get() == "nl" else text
