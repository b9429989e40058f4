"""The strings of the watchlists pages, in Dutch and English (keys prefixed ``watchlists.``)."""

STRINGS: dict[str, dict[str, str]] = {"nl": {}, "en": {}}
