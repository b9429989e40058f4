"""The subscribe and preferences forms, read and checked (pure: form data in, values and
errors out), for :mod:`web.routes.subscribe`.

:func:`read_preferences` reads name, language, watchlists and weekday (the preferences
form of ``/manage``); :func:`read_subscription` adds the address and the consent (the
subscribe form). Each answer keeps what was typed (``values``, to fill the form again)
and the error of each field as a string key of :mod:`web.strings.subscribe`. The
address is checked as the config's are (email-validator, no DNS lookup).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline.settings.checks import Invalid
from pipeline.settings.checks import email as checked_email
from pipeline.store.subscribers import Preferences

LANGUAGES = ("nl", "en")
MAX_NAME = 200
MAX_EMAIL = 254  # RFC 5321's limit on a path, less the brackets
CONSENT = "yes"


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...


@dataclass
class FormResult:
    """A form read: what was typed, the errors by field, and what it means when there
    are none (``preferences``, and ``email`` for the subscribe form)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    preferences: Preferences | None = None
    email: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _clean_name(value: str) -> str | None:
    """The name as given (blanks collapsed), or None when it is too long or holds
    control or format characters."""
    name = " ".join(value.split())
    if len(name) > MAX_NAME or any(unicodedata.category(ch)[0] == "C" for ch in name):
        return None
    return name


def read_preferences(
    form: FormData, watchlists: Sequence[str], *, default_language: str, default_weekday: int
) -> FormResult:
    """Name, language, watchlists (of ``watchlists``, in that order) and weekday."""
    result = FormResult()
    raw_name = _text(form, "name")
    language = _text(form, "language") or default_language
    chosen = [w for w in form.getlist("watchlists") if isinstance(w, str)]
    weekday_text = _text(form, "weekday")
    result.values = {
        "name": raw_name,
        "language": language,
        "watchlists": chosen,
        "weekday": weekday_text or str(default_weekday),
    }
    name = _clean_name(raw_name)
    if name is None:
        result.errors["name"] = "subscribe.error.name"
    if language not in LANGUAGES:
        result.errors["language"] = "subscribe.error.language"
    picked = tuple(w for w in watchlists if w in chosen)
    if not picked or any(w not in watchlists for w in chosen):
        result.errors["watchlists"] = "subscribe.error.watchlists"
    weekday = int(weekday_text) if weekday_text in ("0", "1", "2", "3", "4", "5", "6") else None
    if weekday is None and weekday_text:
        result.errors["weekday"] = "subscribe.error.weekday"
    if result.ok:
        result.preferences = Preferences(
            name=name or "",
            language=language,
            watchlists=picked,
            digest_weekday=default_weekday if weekday is None else weekday,
        )
    return result


def read_subscription(
    form: FormData, watchlists: Sequence[str], *, default_language: str, default_weekday: int
) -> FormResult:
    """The subscribe form: the address and the consent besides the preferences."""
    result = read_preferences(
        form, watchlists, default_language=default_language, default_weekday=default_weekday
    )
    given = _text(form, "email")
    result.values["email"] = given
    result.values["consent"] = form.get("consent") == CONSENT
    try:
        if not given or len(given) > MAX_EMAIL:
            raise Invalid("no address")
        result.email = checked_email(given)
    except Invalid:
        result.errors["email"] = "subscribe.error.email"
    if form.get("consent") != CONSENT:
        result.errors["consent"] = "subscribe.error.consent"
    if not result.ok:
        result.preferences = None
        result.email = None
    return result
