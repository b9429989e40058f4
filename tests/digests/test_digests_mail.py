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
from mail_support import HARD_READERS, as_smtplib_sends

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


# --- List-Unsubscribe (RFC 2369, RFC 8058) -------------------------------------------

UNSUB = "https://trends.example.nl/unsubscribe/YW5uZS5kZXZyaWVzQGV4YW1wbGUubmw.mac-_123"


def with_unsubscribe(recipient: Recipient, **kw: str | None) -> Recipient:
    values: dict[str, str | None] = {
        "unsubscribe_url": UNSUB,
        "unsubscribe_mailto": "unsubscribe@trends.example.nl",
        "manage_url": "https://trends.example.nl/manage/abc.def",
    }
    values.update(kw)
    return replace(recipient, **values)


def raw_headers(msg: EmailMessage) -> str:
    return msg.as_bytes().split(b"\n\n", 1)[0].decode("ascii")


def test_list_unsubscribe_one_click(edition: Edition, recipient: Recipient) -> None:
    built = build(edition, with_unsubscribe(recipient))
    msg = roundtrip(built)
    assert msg["List-Unsubscribe"] == (
        f"<mailto:unsubscribe@trends.example.nl?subject=unsubscribe>, <{UNSUB}>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # the URIs are never RFC 2047-encoded, however long (a client could not use them)
    head = raw_headers(built)
    assert "=?" not in head.split("List-Unsubscribe:", 1)[1].split("MIME-Version")[0]
    assert f"<{UNSUB}>" in head
    # the rest of the message is as before
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Message-ID"] == "<x@y>"
    assert msg["Date"].datetime == DATE
    plain, html = list(msg.iter_parts())
    assert UNSUB in plain.get_content()
    assert UNSUB in html.get_content()
    assert "https://trends.example.nl/manage/abc.def" in plain.get_content()


def test_list_unsubscribe_smtp_serialisation(edition: Edition, recipient: Recipient) -> None:
    """smtplib flattens with the message's policy and CRLF: same header, one URI a line."""
    import io
    from email.generator import BytesGenerator

    buf = io.BytesIO()
    msg = build(edition, with_unsubscribe(recipient))
    BytesGenerator(buf, policy=msg.policy.clone(linesep="\r\n")).flatten(msg)
    head = buf.getvalue().split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert (
        "List-Unsubscribe: <mailto:unsubscribe@trends.example.nl?subject=unsubscribe>,\r\n"
        f" <{UNSUB}>\r\n"
    ) in head
    assert all(len(line) <= 998 for line in head.split("\r\n"))


def test_no_one_click_without_https(edition: Edition, recipient: Recipient) -> None:
    mail_only = roundtrip(build(edition, with_unsubscribe(recipient, unsubscribe_url=None)))
    assert mail_only["List-Unsubscribe"] == (
        "<mailto:unsubscribe@trends.example.nl?subject=unsubscribe>"
    )
    assert mail_only["List-Unsubscribe-Post"] is None
    plain_http = with_unsubscribe(
        recipient, unsubscribe_url="http://trends.example.nl/unsubscribe/t", unsubscribe_mailto=None
    )
    msg = roundtrip(build(edition, plain_http))
    assert msg["List-Unsubscribe"] == "<http://trends.example.nl/unsubscribe/t>"
    assert msg["List-Unsubscribe-Post"] is None
    https_only = roundtrip(build(edition, with_unsubscribe(recipient, unsubscribe_mailto=None)))
    assert https_only["List-Unsubscribe"] == f"<{UNSUB}>"
    assert https_only["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_no_list_unsubscribe_without_links(edition: Edition, recipient: Recipient) -> None:
    msg = roundtrip(build(edition, recipient))
    assert msg["List-Unsubscribe"] is None
    assert msg["List-Unsubscribe-Post"] is None


def test_unsafe_unsubscribe_values_are_left_out(edition: Edition, recipient: Recipient) -> None:
    bad = with_unsubscribe(
        recipient,
        unsubscribe_url="javascript:alert(1)",
        unsubscribe_mailto="x>, <https://evil.example/@x",
    )
    msg = roundtrip(build(edition, bad))
    assert msg["List-Unsubscribe"] is None
    assert msg["List-Unsubscribe-Post"] is None
    injected = with_unsubscribe(recipient, unsubscribe_url="https://a.example/u>\r\nBcc: x@y")
    msg = roundtrip(build(edition, injected))
    assert msg["Bcc"] is None
    assert msg["List-Unsubscribe"].count("<") == 2  # the URL is percent-encoded, not split


def test_tokens_end_to_end(edition: Edition, recipient: Recipient) -> None:
    from digests.tokens import UNSUBSCRIBE, resolve_token, with_links

    secret = b"0123456789abcdef0123456789abcdef"
    linked = with_links(
        recipient,
        secret=secret,
        base_url="https://trends.example.nl",
        unsubscribe_mailto="Trendwatch <unsubscribe@trends.example.nl>",
    )
    msg = roundtrip(build(edition, linked))
    header = msg["List-Unsubscribe"]
    url = re.search(r"<(https://[^>]+)>", header).group(1)
    assert url.startswith("https://trends.example.nl/unsubscribe/")
    token = url.rsplit("/", 1)[1]
    assert resolve_token(secret, token, [recipient.email], UNSUBSCRIBE) == recipient.email
    assert recipient.email.split("@")[0] not in token
    assert "<mailto:unsubscribe@trends.example.nl?subject=unsubscribe>" in header


# --- encoding and shared headers -------------------------------------------------------


def test_parts_decode_to_the_rendered_text_and_html(edition: Edition, recipient: Recipient) -> None:
    rendered = render_edition(edition, recipient, sender=SENDER)
    built = build_message(
        edition, recipient, rendered, sender=SENDER, message_id="<x@y>", date=DATE
    )
    raw = built.as_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\n"))
    msg = roundtrip(built)
    plain, html = list(msg.iter_parts())
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert html["Content-Transfer-Encoding"] == "base64"
    assert plain.get_content() == rendered.text
    assert html.get_content() == rendered.html + ("" if rendered.html.endswith("\n") else "\n")
    assert raw.count(f"--{msg.get_boundary()}".encode()) == 3  # two parts and the end


def test_line_ends_are_normalised_as_before(edition: Edition, recipient: Recipient) -> None:
    from digests.render import Rendered

    rendered = Rendered(html="<p>a</p>\r\n<p>b</p>\r<p>c</p>", text="a\r\nb\rc é " + "x" * 200)
    msg = roundtrip(build_message(edition, recipient, rendered, sender=SENDER, message_id="i"))
    plain, html = list(msg.iter_parts())
    assert html.get_content() == "<p>a</p>\n<p>b</p>\n<p>c</p>\n"
    assert plain.get_content() == "a\nb\nc é " + "x" * 200 + "\n"


def test_messages_of_one_edition_share_only_what_is_shared(
    make_edition: Callable[..., Edition], recipient: Recipient
) -> None:
    edition = make_edition()
    other = Recipient(email="bob@example.nl", name="Bob", language="nl")
    first = roundtrip(build(edition, with_unsubscribe(recipient), message_id="<1@x>"))
    second = roundtrip(build(edition, other, message_id="<2@x>"))
    assert first["To"] == "Anne de Vries <anne.devries@example.nl>"
    assert second["To"] == "Bob <bob@example.nl>"
    assert first["List-Unsubscribe"] and second["List-Unsubscribe"] is None
    assert (first["Message-ID"], second["Message-ID"]) == ("<1@x>", "<2@x>")
    assert "anne.devries@example.nl" not in second.as_string()
    assert first["Subject"] == second["Subject"]
    english = roundtrip(build(make_edition(language="en"), other))
    assert english["Subject"] == "Trendwatch Werk en Leven · week 48: 5 articles"
    assert english["Content-Language"] == "en"
    other_sender = build_message(
        edition,
        other,
        render_edition(edition, other),
        sender="Other <o@example.org>",
        message_id="<3@x>",
    )
    assert roundtrip(other_sender)["From"] == "Other <o@example.org>"


@pytest.mark.parametrize("who", HARD_READERS, ids=lambda r: r.email)
def test_the_fast_wire_form_is_what_smtplib_sends(
    make_edition: Callable[..., Edition], who: Recipient
) -> None:
    from digests.mail import smtp_bytes

    edition = make_edition(title="Trendwatch · week met een heel lange titel " * 3)
    msg = build(edition, who)
    assert smtp_bytes(msg) == as_smtplib_sends(msg)
    # anything else goes the ordinary way
    msg["Bcc"] = "hidden@example.org"
    assert smtp_bytes(msg) is None
    plain = EmailMessage()
    plain.set_content("hallo")
    assert smtp_bytes(plain) is None
