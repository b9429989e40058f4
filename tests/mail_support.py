"""What the mail tests share: readers whose mails are hard to get right, and the bytes
smtplib would put on the wire for a message (the reference a faster path must match)."""

from __future__ import annotations

import copy
import io
from email.generator import BytesGenerator
from email.message import EmailMessage

from digests.model import Recipient

# the digest tests' two watchlists and their source (config TOML), before the readers
DIGEST_CONFIG = """
[[watchlists]]
name = "social-media-werk"
title = "Social media op het werk"
query = '"social media" werk'
[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = 'thuiswerken OR "hybride werken"'
[[sources]]
name = "HR Nieuws"
url = "https://hrnieuws.test.invalid/feed.xml"
language = "nl"
"""

HARD_READERS = (
    Recipient("anne@example.nl", "Anne", "nl"),
    Recipient("bo@example.org", 'Bø Ångström, "the" reader', "en"),
    Recipient("x@example.org", "", "nl", unsubscribe_mailto="stop@example.org"),
    Recipient(
        "lang@example.org",
        "Een heel lange naam " * 6,
        "nl",
        unsubscribe_url="https://trends.example.nl/unsubscribe/" + "t" * 300,
        manage_url="https://trends.example.nl/manage/" + "m" * 120,
    ),
)
"""A plain reader, a display name that needs quoting and encoding, a reader without
links (a mailto unsubscribe), and one whose name and links need folding."""


def as_smtplib_sends(msg: EmailMessage) -> bytes:
    """What ``smtplib.SMTP.send_message`` puts on the wire (without Bcc, CRLF)."""
    msg = copy.copy(msg)
    del msg["Bcc"]
    with io.BytesIO() as out:
        BytesGenerator(out).flatten(msg, linesep="\r\n")
        return out.getvalue()
