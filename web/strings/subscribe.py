"""The strings of the subscribe pages, in Dutch and English (keys prefixed ``subscribe.``)."""

STRINGS: dict[str, dict[str, str]] = {"nl": {}, "en": {}}
