"""The strings of the stories pages, in Dutch and English (keys prefixed ``stories.``)."""

STRINGS: dict[str, dict[str, str]] = {"nl": {}, "en": {}}
