"""Building the MIME message."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from digests.mail import build_message, make_message_id
from digests.model import Edition, Recipient
from digests.render import render_edition

SENDER = "Trendwatch <digest@trends.example.nl>"
DATE = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def roundtrip(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def build(edition: Edition, recipient: Recipient, message_id: str = "<x@y>") -> EmailMessage:
    rendered = render_edition(edition, recipient, sender=SENDER)
    return build_message(
        edition, recipient, rendered, sender=SENDER, message_id=message_id, date=DATE
    )


def test_multipart_alternative_text_then_html(edition: Edition, recipient: Recipient) -> None:
    msg = roundtrip(build(edition, recipient))
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content_charset() == "utf-8"
    assert html.get_content_charset() == "utf-8"
    assert "Week 48 · 23–29 november 2026" in plain.get_content()
    assert "Week 48 · 23–29 november 2026" in html.get_content()
    assert "https://news.example.nl/linkedin-kantoor" in plain.get_content()


def test_headers(edition: Edition, recipient: Recipient) -> None:
    msg = roundtrip(build(edition, recipient, message_id="<abc@trends.example.nl>"))
    assert msg["From"] == SENDER
    assert msg["To"] == "Anne de Vries <anne.devries@example.nl>"
    assert msg["To"].addresses[0].addr_spec == "anne.devries@example.nl"
    assert msg["Subject"] == "Trendwatch Werk en Leven · week 48: 5 artikelen"
    assert msg["Message-ID"] == "<abc@trends.example.nl>"
    assert msg["Date"].datetime == DATE
    assert msg["Content-Language"] == "nl"


@pytest.mark.parametrize(
    ("language", "subject"),
    [("nl", "Trendwatch · week 48: 12 artikelen"), ("en", "Trendwatch · week 48: 12 articles")],
)
def test_subject_localised(
    make_edition: Callable[..., Edition], recipient: Recipient, language: str, subject: str
) -> None:
    edition = make_edition(language=language, title="Trendwatch")
    edition = replace(edition, sections=(replace(edition.sections[0], more=9),))  # 3 + 9
    assert roundtrip(build(edition, recipient))["Subject"] == subject


def test_message_id_is_wrapped_and_names_are_encoded(edition: Edition) -> None:
    someone = Recipient(email="j@example.be", name='Jérôme, "J" Dupont', language="nl")
    msg = roundtrip(build(edition, someone, message_id="bare-id@example.nl"))
    assert msg["Message-ID"] == "<bare-id@example.nl>"
    assert msg["To"].addresses[0].display_name == 'Jérôme, "J" Dupont'
    assert msg["To"].addresses[0].addr_spec == "j@example.be"
    nameless = Recipient(email="x@example.nl", name="", language="nl")
    assert roundtrip(build(edition, nameless))["To"] == "x@example.nl"


def test_make_message_id_is_deterministic() -> None:
    first = make_message_id("2026-W48/nl-x/anne@example.nl", "trends.example.nl")
    assert first == make_message_id("2026-W48/nl-x/anne@example.nl", "trends.example.nl")
    assert first != make_message_id("2026-W48/nl-x/bob@example.nl", "trends.example.nl")
    assert re.fullmatch(r"<[0-9a-f]{64}@trends\.example\.nl>", first)
    with pytest.raises(ValueError):
        make_message_id("k", "bad domain>")
