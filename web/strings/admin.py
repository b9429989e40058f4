"""The strings of the admin pages, in Dutch and English (keys prefixed ``admin.``)."""

STRINGS: dict[str, dict[str, str]] = {"nl": {}, "en": {}}
