"""The strings of the search pages, in Dutch and English (keys prefixed ``search.``)."""

STRINGS: dict[str, dict[str, str]] = {"nl": {}, "en": {}}
