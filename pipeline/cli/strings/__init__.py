"""Everything the command line prints for the user, in Dutch and English:
``STRINGS = {"nl": {...}, "en": {...}}``, one module per language (:mod:`.nl`,
:mod:`.en`), of ``str.format`` templates, keys prefixed by the command
(``crawl.summary``) or shared (``none``). A countable noun has a key per
CLDR plural form, ``source.one`` and ``source.other`` (see
:func:`pipeline.cli.i18n.count`). Both languages have the same keys: a key missing
in one is an error at import. Rich markup stays in the code, not here.
"""

from __future__ import annotations

from pipeline.cli.strings import en, nl

LANGUAGES = ("nl", "en")

STRINGS: dict[str, dict[str, str]] = {"nl": nl.STRINGS, "en": en.STRINGS}


def missing_keys(strings: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Per language, the keys another language has and it lacks (empty when complete)."""
    every = set().union(*strings.values())
    return {lang: sorted(every - set(table)) for lang, table in strings.items()}


def check_complete(strings: dict[str, dict[str, str]]) -> None:
    """Refuse (at import) a table where one language lacks a key another has."""
    missing = {lang: keys for lang, keys in missing_keys(strings).items() if keys}
    if missing or set(strings) != set(LANGUAGES):
        raise ValueError(f"pipeline.cli.strings: keys missing per language: {missing}")


check_complete(STRINGS)
