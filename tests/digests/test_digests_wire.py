"""A digest made the fast way (the edition's skeleton filled in, the wire bytes made
from the edition's shared headers) is byte for byte the mail made the slow way (every
recipient rendered in full, a MIME message built, serialised as smtplib sends it)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import pytest
from mail_support import HARD_READERS, as_smtplib_sends

from digests.mail import build_message, make_message_id
from digests.model import Edition, Recipient
from digests.personalise import EditionRenderer
from digests.templating import environment, render_context
from digests.tokens import with_links
from digests.views import edition_context
from digests.wire import WireEdition, wire_edition

SENDER = "Trendwatch <digest@trends.example.nl>"
DATE = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
SECRET = b"s" * 40

READERS = [
    *HARD_READERS,
    with_links(
        Recipient("reader7@nl.example.org", "Reader 7", "nl", ("thuiswerken",)),
        secret=SECRET,
        base_url="https://digest.example.org",
        unsubscribe_mailto="digest@trends.example.nl",
    ),
]


def slow(edition: Edition, reader: Recipient, message_id: str) -> EmailMessage:
    """The reference: the reader's mail rendered in full and built as a message."""
    rendered = render_context(environment(None), edition_context(edition, reader, sender=SENDER))
    return build_message(edition, reader, rendered, sender=SENDER, message_id=message_id, date=DATE)


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.email)
def test_a_mail_made_the_fast_way_is_the_mail_made_the_slow_way(
    make_edition: Callable[..., Edition], reader: Recipient
) -> None:
    edition = make_edition(title="Trendwatch · week met een heel lange titel " * 3)
    renderer = EditionRenderer(edition, sender=SENDER)
    renderer.render(READERS[0])  # the skeleton is made for another reader first
    message_id = make_message_id(f"{edition.key}/{reader.email}", "trends.example.nl")
    fast = wire_edition(edition, SENDER).message(
        reader, renderer.render(reader), message_id=message_id, date=DATE
    )
    reference = slow(edition, reader, message_id)
    assert fast is not None
    assert fast.data == as_smtplib_sends(reference)
    # the envelope is what the transport takes from the message
    assert fast.sender == parseaddr(str(reference["From"]))[1] == "digest@trends.example.nl"
    assert list(fast.recipients) == [a for _, a in getaddresses(reference.get_all("To", []))]
    # and a mail program reads the reader's own links and address in it
    parsed = email.message_from_bytes(fast.data, policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == reader.email
    html = parsed.get_body(("html",)).get_content()
    if reader.unsubscribe_url:
        assert reader.unsubscribe_url.replace("&", "&amp;") in html
        assert reader.unsubscribe_url in parsed["List-Unsubscribe"]


def test_every_reader_of_one_edition_gets_the_mail_made_the_slow_way(
    make_edition: Callable[..., Edition],
) -> None:
    """One edition's readers in a row (as the job sends them): the parts' shared start
    is encoded once, and every reader's bytes are still the reference's."""
    edition = make_edition(title="Trendwatch · week met een heel lange titel " * 3)
    wire = WireEdition(edition, SENDER)
    renderer = EditionRenderer(edition, sender=SENDER)
    for n, reader in enumerate([*READERS, *reversed(READERS)]):
        message_id = f"<{n}.digest@trends.example.nl>"
        fast = wire.message(reader, renderer.render(reader), message_id=message_id, date=DATE)
        if fast is None:  # (an address that needs SMTPUTF8)
            continue
        assert fast.data == as_smtplib_sends(slow(edition, reader, message_id)), reader.email
    # (the shared starts were found: most of each part was encoded once)
    assert len(wire._html._start) > 1_000 and len(wire._text._start) > 500


def _bodies() -> list[bytes]:
    """Bodies (LF line ends) that share a start and differ near the end, with what is
    hard to encode near where the shared start is cut: long lines, trailing blanks,
    '=' and non-ASCII, dots at line starts."""
    head = ("Wekelijkse trends · café = ok\n" + "x" * 150 + " \n\t\n.\n" + "é" * 40 + "\n") * 7
    tails = ["", "a", " ", "\n", "uitschrijven: https://x.example/u?t=1 \n", "=" * 90, "€ \t"]
    return [(head + tail).encode("utf-8") for tail in tails] + [b"", b"\n", head.encode()[:57]]


@pytest.mark.parametrize("part", ["text", "html"])
def test_a_part_encoded_from_its_shared_start_is_the_part_encoded_whole(part: str) -> None:
    import binascii

    from digests.wire import _base64_cut, _base64_lines, _qp_crlf, _qp_cut, _SharedStart

    encode, cut = (_qp_crlf, _qp_cut) if part == "text" else (_base64_lines, _base64_cut)
    shared = _SharedStart(encode, cut)
    for body in _bodies() * 2:
        assert shared(body) == encode(body)
    if part == "text":  # and the whole is what the email package's encoder makes
        body = _bodies()[4]
        assert encode(body) == binascii.b2a_qp(body, istext=True).replace(b"\n", b"\r\n")


def test_readers_of_one_edition_differ_only_in_their_personal_parts(
    make_edition: Callable[..., Edition],
) -> None:
    edition = make_edition()
    wire = WireEdition(edition, SENDER)
    renderer = EditionRenderer(edition, sender=SENDER)
    one, two = (
        wire.message(r, renderer.render(r), message_id=f"<{n}@x>", date=DATE)
        for n, r in enumerate((READERS[-1], READERS[0]))
    )
    assert one is not None and two is not None
    assert b"reader7@nl.example.org" in one.data and b"reader7" not in two.data
    head = one.data.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"Subject: ") and b"\r\nDate: Mon, 30 Nov 2026 06:00:00 +0000" in head


def test_what_the_shortcut_cannot_make_is_left_to_the_message_object(
    make_edition: Callable[..., Edition],
) -> None:
    edition = make_edition()
    wire = WireEdition(edition, SENDER)
    renderer = EditionRenderer(edition, sender=SENDER)
    needs_smtputf8 = Recipient("zoe@voorbeeld.café", "Zoë", "nl")
    rendered = renderer.render(needs_smtputf8)
    assert wire.message(needs_smtputf8, rendered, message_id="<1@x>") is None


@pytest.mark.parametrize("size", [0, 1, 56, 57, 58, 113, 114, 115, 4_000])
def test_the_html_part_is_encoded_as_the_email_package_encodes_it(size: int) -> None:
    import base64

    from digests.wire import _base64_lines

    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    assert _base64_lines(data) == base64.encodebytes(data).replace(b"\n", b"\r\n")


def test_messages_sent_in_one_second_share_their_date_line(
    make_edition: Callable[..., Edition],
) -> None:
    edition = make_edition()
    wire = WireEdition(edition, SENDER)
    renderer = EditionRenderer(edition, sender=SENDER)
    reader = READERS[0]
    rendered = renderer.render(reader)
    dates = [DATE, DATE.replace(microsecond=900_000), DATE.replace(second=1), DATE]
    made = [wire.message(reader, rendered, message_id="<1@x>", date=d) for d in dates]
    heads = [m.data.split(b"\r\n\r\n", 1)[0] for m in made if m is not None]
    assert b"Date: Mon, 30 Nov 2026 06:00:00 +0000\r\n" in heads[0]
    assert heads[0] == heads[1] == heads[3] != heads[2]
    assert b"Date: Mon, 30 Nov 2026 06:00:01 +0000\r\n" in heads[2]


def _to_reference(reader: Recipient) -> tuple[bytes, tuple[str, ...]]:
    """The To line and envelope through the email package, as the message object has them."""
    from digests.mail import POLICY, recipient_address
    from digests.wire import _SMTP_POLICY

    to = POLICY.header_store_parse("To", recipient_address(reader))
    return _SMTP_POLICY.fold_binary(*to), tuple(a for _, a in getaddresses([str(to[1])]) if a)


@pytest.mark.parametrize(
    "name",
    [
        "Reader 12",
        "",
        "A",
        "Jan de Vries",
        "J. Smith",
        "Zoë",
        "a  b",
        " Sanne ",
        "x" * 40,
        "y" * 60,
    ],
)
@pytest.mark.parametrize(
    "address",
    [
        "reader12@nl.bench.example.org",
        "Jan.de-Vries+digest@Example.NL",
        "a@b.co",
        "first..last@example.org",
        "x" * 30 + "@example.org",
        "odd@localhost",
    ],
)
def test_the_to_line_is_the_email_packages_whatever_the_name_and_address(
    name: str, address: str
) -> None:
    from digests.wire import _to

    reader = Recipient(address, name, "nl")
    try:
        reference = _to_reference(reader)
    except ValueError as refused:  # (an address the email package refuses: so does _to)
        with pytest.raises(type(refused)):
            _to(reader)
        return
    assert _to(reader) == reference


@pytest.mark.parametrize(
    "domain",
    ["bench.example.org", "trendwatch.test", "localhost", "x" * 40 + ".example.org", "a-b.nl"],
)
def test_the_message_id_line_is_the_email_packages_for_every_digest(domain: str) -> None:
    """A Message-ID of ours is folded as the email package folds it, whatever its
    digest (letters, digits) and domain; any other is left to the email package."""
    from digests.wire import _folded, _message_id_line

    keys = [f"2026-W48/nl-w{n}:reader{n}@example.org" for n in range(40)]
    for message_id in [make_message_id(key, domain) for key in keys]:
        assert _message_id_line(message_id) == _folded("Message-ID", message_id)
    for other in ["<abc@example.org>", "<" + "A" * 64 + f"@{domain}>", "<x y@z>"]:
        assert _message_id_line(other) == _folded("Message-ID", other)


@pytest.mark.parametrize(
    "value",
    [
        "<mailto:digest@example.org?subject=unsubscribe>",
        "<https://digest.example.org/unsubscribe/v1.abc_DEF-123>",
        "<mailto:digest@example.org?subject=unsubscribe>, <https://e.org/unsubscribe/t>",
        "<mailto:a@b.c>, <https://" + "x" * 200 + ".example.org/unsubscribe/t>",
        "<mailto:=?utf-8?q?x?=@b.c>",
        "<mailto:a@b.c>,<https://e.org/u>",
        "<mailto:a@b.c>, text <https://e.org/u>",
        "<mailto:é@b.c>",
    ],
)
def test_the_list_unsubscribe_line_is_the_email_packages(value: str) -> None:
    from digests.wire import _folded, _list_unsubscribe_line

    try:
        reference = _folded("List-Unsubscribe", value)
    except UnicodeError as refused:  # (not ASCII: refused both ways)
        with pytest.raises(type(refused)):
            _list_unsubscribe_line(value)
        return
    assert _list_unsubscribe_line(value) == reference
