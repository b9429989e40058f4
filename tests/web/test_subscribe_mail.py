"""The confirmation mail (digests.confirmation): what was asked for, the link and when it
stops working, in the reader's language, text and HTML; what the reader typed is text
in both (escaped in the HTML)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from digests.confirmation import ConfirmationMail, build_confirmation, weekday_name

URL = "https://digest.example.org/confirm/v3.AAAAAAAAAAAAAAAA.7.1796288400.mac"
DATE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def mail(language: str, name: str = "Anne") -> ConfirmationMail:
    return ConfirmationMail(
        email="anne@example.nl",
        name=name,
        language=language,
        digest_title="Trendwatch Werk",
        watchlists=("Thuiswerken", "Banen"),
        weekday=4,
        at=time(7, 0),
        timezone="Europe/Amsterdam",
        url=URL,
        expires=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
    )


def parts(message: object) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    html = message.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    return text, html


def test_the_mail_in_english() -> None:
    message = build_confirmation(
        mail("en"), sender="Trendwatch <digest@example.org>", message_id="x@example.org", date=DATE
    )
    assert message["Subject"] == "Confirm your subscription to Trendwatch Werk"
    assert message["To"] == "Anne <anne@example.nl>"
    assert message["Message-ID"] == "<x@example.org>"
    assert message["Content-Language"] == "en" and message["Auto-Submitted"] == "auto-generated"
    text, html = parts(message)
    flat = " ".join(text.split())
    assert "Hello Anne," in flat
    assert "a mail about Thuiswerken and Banen every Friday at 07:00" in flat
    assert "It works once, until 3 December 2026 10:00 (Europe/Amsterdam):" in flat
    assert URL in text.splitlines()  # on a line of its own, whole
    assert f'href="{URL}"' in html and "Yes, send me the digest" in html
    assert "without a confirmation you get nothing from us" in flat


def test_the_mail_in_dutch_and_a_name_is_text() -> None:
    message = build_confirmation(
        mail("nl", name='<b onclick="x">Anne</b>'),
        sender="digest@example.org",
        message_id="<y@example.org>",
        date=DATE,
    )
    assert message["Subject"] == "Bevestig je aanmelding voor Trendwatch Werk"
    text, html = parts(message)
    flat = " ".join(text.split())
    assert "elke vrijdag om 07:00 een mail over Thuiswerken en Banen" in flat
    assert '<b onclick="x">' not in html and "&lt;b onclick=" in html
    assert weekday_name(0, "nl") == "maandag" and weekday_name(6, "en") == "Sunday"
