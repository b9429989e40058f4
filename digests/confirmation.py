"""The mail that confirms a subscription (double opt-in): what someone asked for on the
subscribe form, and the link that makes it happen, which works once and expires.

:func:`build_confirmation` makes the message from a :class:`ConfirmationMail` (plain
data; the caller signs the link and sends the message through the digests' transport).
multipart/alternative, the text part first, both UTF-8, in the subscriber's language;
``Auto-Submitted: auto-generated`` (RFC 3834), and no ``List-Unsubscribe``: it is no
list mail, and nothing follows it unless the link is opened. Templates:
``confirm.txt.j2`` and ``confirm.html.j2`` (a ``template_dir`` may override them as
it overrides the digest's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime

from digests import i18n
from digests.mail import POLICY
from digests.templating import INLINER, environment, tidy_text
from digests.text import clean_text

TEXT_TEMPLATE = "confirm.txt.j2"
HTML_TEMPLATE = "confirm.html.j2"

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "subject": "Bevestig je aanmelding voor {title}",
        "heading": "Bevestig je aanmelding",
        "greeting": "Hallo {name},",
        "greeting.anonymous": "Hallo,",
        "request": (
            "Iemand, hopelijk jij, heeft {email} aangemeld voor {title}: elke {weekday}"
            " om {at} een mail over {watchlists}."
        ),
        "instruction": (
            "Wil je die mail ontvangen? Bevestig het met deze link. Hij werkt één keer,"
            " tot {expires}:"
        ),
        "button": "Ja, ik wil de digest ontvangen",
        "not_you": (
            "Was jij dit niet, of wil je het toch niet? Dan hoef je niets te doen: zonder"
            " bevestiging ontvang je niets van ons."
        ),
        "sent_by": "Verzonden door {sender}",
    },
    "en": {
        "subject": "Confirm your subscription to {title}",
        "heading": "Confirm your subscription",
        "greeting": "Hello {name},",
        "greeting.anonymous": "Hello,",
        "request": (
            "Someone, hopefully you, asked for {email} to receive {title}: a mail about"
            " {watchlists} every {weekday} at {at}."
        ),
        "instruction": (
            "Would you like to receive it? Confirm with this link. It works once, until {expires}:"
        ),
        "button": "Yes, send me the digest",
        "not_you": (
            "Not you, or changed your mind? Then do nothing: without a confirmation you"
            " get nothing from us."
        ),
        "sent_by": "Sent by {sender}",
    },
}


@dataclass(frozen=True)
class ConfirmationMail:
    """What a confirmation mail says: who asked for what, and the link."""

    email: str
    name: str
    language: str  # nl | en: the mail's and the digest's language
    digest_title: str
    watchlists: tuple[str, ...]  # the titles of the watchlists asked for
    weekday: int  # the digest's weekday, 0 = Monday
    at: time  # and time of day, in ``timezone``
    timezone: str
    url: str  # <base_url>/confirm/<token>
    expires: datetime  # when the link stops working


def weekday_name(weekday: int, language: str) -> str:
    """The weekday (0 = Monday) as a word in ``language``: "vrijdag", "Friday"."""
    return str(Locale.parse(i18n.language_of(language)).days["format"]["wide"][weekday])


def _text(language: str, key: str, **values: object) -> str:
    return STRINGS[i18n.language_of(language)][key].format(**values)


def confirmation_context(mail: ConfirmationMail, sender: str) -> dict[str, str]:
    """The localised text of the mail, for both templates (plain text, not escaped)."""
    lang = i18n.language_of(mail.language)
    title = clean_text(mail.digest_title)
    name = clean_text(mail.name)
    expires = format_datetime(
        mail.expires.astimezone(ZoneInfo(mail.timezone)), "d MMMM y HH:mm", locale=lang
    )
    values = {
        "title": title,
        "email": mail.email.strip(),
        "weekday": weekday_name(mail.weekday, lang),
        "at": f"{mail.at:%H:%M}",
        "watchlists": i18n.join_list([clean_text(w) for w in mail.watchlists], lang),
        "expires": f"{expires} ({mail.timezone})",
        "sender": clean_text(sender),
        "name": name,
    }
    return {
        "lang": lang,
        "title": title,
        "subject": _text(lang, "subject", **values),
        "heading": _text(lang, "heading"),
        "greeting": _text(lang, "greeting" if name else "greeting.anonymous", **values),
        "request": _text(lang, "request", **values),
        "instruction": _text(lang, "instruction", **values),
        "button": _text(lang, "button"),
        "not_you": _text(lang, "not_you"),
        "sent_by": _text(lang, "sent_by", **values),
        "url": mail.url,
    }


def build_confirmation(
    mail: ConfirmationMail,
    *,
    sender: str,
    message_id: str,
    date: datetime,
    template_dir: Path | None = None,
) -> EmailMessage:
    """The confirmation mail for ``mail``, from ``sender``."""
    context = confirmation_context(mail, sender)
    env = environment(template_dir)
    text = tidy_text(env.get_template(TEXT_TEMPLATE).render(context))
    html = INLINER.inline(env.get_template(HTML_TEMPLATE).render(context))
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = context["subject"]
    msg["From"] = sender
    msg["To"] = Address(display_name=clean_text(mail.name), addr_spec=mail.email.strip())
    msg["Date"] = date
    msg["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="base64")
    msg["Content-Language"] = context["lang"]  # after the parts: set_content drops Content-*
    return msg
