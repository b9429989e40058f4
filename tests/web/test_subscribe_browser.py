"""The subscribe flow end to end: real headless Chromium (Debian's, driven by Playwright)
against a real ``trendwatch serve`` process, a real SMTP server (aiosmtpd) and
``trendwatch digest`` run as a child process, on one SQLite file. A reader fills in the
form, opens the confirmation link from the mail received, gets the next digest,
unsubscribes with one click from its ``List-Unsubscribe`` header, and gets no more.
And a mail client's RFC 8058 POST to the ``List-Unsubscribe`` URL of a received digest
(https, behind a proxy that ends TLS) unsubscribes a reader of the config file."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from browser_support import watched_tab
from pipeline.settings import load_settings
from smtp_support import Recorder, free_port
from subscribe_support import (
    CONFIG_READER,
    ServeProcess,
    link_in,
    one_click,
    parse,
    seed,
    subscribe_config,
    trendwatch_later,
)
from tests_support import trendwatch

ANNE = "anne@example.nl"
PIET = "piet@example.org"


def received(recorder: Recorder, address: str) -> list[EmailMessage]:
    return [parse(r.content) for r in recorder.received if address in r.rcpt_tos]


def ids(messages: list[EmailMessage]) -> list[str]:
    return [str(m["Message-ID"]) for m in messages]


def wait_for_mail(recorder: Recorder, address: str, count: int) -> list[EmailMessage]:
    deadline = time.monotonic() + 30
    while len(received(recorder, address)) < count:
        assert time.monotonic() < deadline, f"no mail {count} for {address}"
        time.sleep(0.05)
    return received(recorder, address)


def unsubscribe_url(digest: EmailMessage) -> str:
    """The http(s) URL in a digest's List-Unsubscribe header."""
    uris = " ".join(str(digest["List-Unsubscribe"]).split())
    [url] = [u.strip("<> ,") for u in uris.split() if u.strip("<> ,").startswith("http")]
    return url


def digest_now(config: Path) -> None:
    result = trendwatch("--config", str(config), "digest", cwd=config.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_whole_subscribe_flow_in_chromium(
    tmp_path: Path, smtpd: tuple[Recorder, int], browser: Any
) -> None:
    recorder, smtp_port = smtpd
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = subscribe_config(tmp_path, base_url=base, smtp_port=smtp_port)
    settings = load_settings(config)
    now = datetime.now(UTC)
    seed(settings, now, "Thuiswerken blijft de norm")
    server = ServeProcess(config, port).start()
    try:
        with watched_tab(browser, "en-US") as (page, problems):
            # the form
            page.goto(base + "/subscribe?lang=en")
            page.fill("#email", ANNE)
            page.fill("#name", "Anne")
            page.select_option("#language", "nl")
            page.check("input[name=watchlists][value=thuiswerken]")
            page.select_option("#weekday", "0")  # Monday: the config reader's day too
            page.check("input[name=consent]")
            page.click("button[type=submit]")
            page.wait_for_selector("text=Check your mailbox")
            assert f"We have sent a mail to {ANNE}" in page.inner_text("main")

            # the confirmation mail and its link; nothing before the button is pressed
            [confirmation] = wait_for_mail(recorder, ANNE, 1)
            assert confirmation["Subject"] == "Bevestig je aanmelding voor Trendwatch Werk"
            page.goto(link_in(confirmation, "confirm"))
            assert page.locator('meta[name="robots"]').get_attribute("content") == "noindex"
            digest_now(config)
            assert ids(received(recorder, ANNE)) == ids([confirmation])  # not confirmed: no digest
            page.click("button[type=submit]")
            page.wait_for_selector("text=Your subscription is confirmed")

            # the next digest (a new week, so a new edition)
            seed(settings, now + timedelta(days=7), "Het kantoor blijft leeg", start=10)
            later = trendwatch_later(7, "--config", str(config), "digest", cwd=tmp_path)
            assert later.returncode == 0
            confirmation, digest = wait_for_mail(recorder, ANNE, 2)
            assert "Het kantoor blijft leeg" in str(digest.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            assert digest["List-Unsubscribe-Post"] is None  # http: no one-click promised
            # unsubscribe with one click, from its header, as a mail client does
            answer = one_click(unsubscribe_url(digest), base)
            assert answer.status == 200
            assert answer.getheader("Set-Cookie") is None and answer.getheader("Location") is None
            # its manage link now says so, in the browser
            gone = page.goto(link_in(digest, "manage") + "?lang=en")
            assert gone is not None and gone.status == 410
            assert "You have unsubscribed" in page.inner_text("main")
            # Chromium reports the 410 of the document itself; that one is meant
            meant = "Failed to load resource: the server responded with a status of 410 (Gone)"
            problems.remove(meant)

            # no more: the week after, the config's reader gets the edition, Anne nothing
            seed(settings, now + timedelta(days=14), "Thuiswerken in de wet", start=20)
            later = trendwatch_later(14, "--config", str(config), "digest", cwd=tmp_path)
            assert later.returncode == 0, later.stderr
            assert len(received(recorder, CONFIG_READER)) == 3  # one a week
            last = received(recorder, CONFIG_READER)[-1]
            assert "Thuiswerken in de wet" in str(last.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            assert ids(received(recorder, ANNE)) == ids([confirmation, digest])
    finally:
        server.kill()
    assert problems == []


def test_a_mail_clients_rfc_8058_post_to_list_unsubscribe_unsubscribes(
    tmp_path: Path, smtpd: tuple[Recorder, int]
) -> None:
    recorder, smtp_port = smtpd
    port = free_port()
    also_piet = (
        f'[[subscribers]]\nemail = "{PIET}"\nlanguage = "nl"\nwatchlists = ["thuiswerken"]\n'
    )
    config = subscribe_config(
        tmp_path, base_url="https://digest.test", smtp_port=smtp_port, rest=also_piet
    )
    settings = load_settings(config)
    now = datetime.now(UTC)
    seed(settings, now, "Thuiswerken blijft de norm")
    server = ServeProcess(config, port).start()
    try:
        digest_now(config)
        [digest] = received(recorder, CONFIG_READER)
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        header = " ".join(str(digest["List-Unsubscribe"]).split())
        assert header.startswith("<mailto:") and "<https://digest.test/unsubscribe/v2." in header
        answer = one_click(unsubscribe_url(digest), server.base)
        assert answer.status == 200
        assert answer.getheader("Set-Cookie") is None and answer.getheader("Location") is None
        assert answer.getheader("X-Robots-Tag") == "noindex"
        again = one_click(unsubscribe_url(digest), server.base)  # clients may retry
        assert again.status == 200
        shown = trendwatch("--config", str(config), "status", cwd=tmp_path)
        assert "Unsubscribed (1):" in shown.stdout
        assert f"  {CONFIG_READER} on " in shown.stdout and "still in the config" in shown.stdout
        seed(settings, now + timedelta(days=7), "Het kantoor blijft leeg", start=10)
        later = trendwatch_later(7, "--config", str(config), "digest", cwd=tmp_path)
        assert later.returncode == 0, later.stderr
        assert len(received(recorder, PIET)) == 2
        assert ids(received(recorder, CONFIG_READER)) == ids([digest])
        assert server.stop() == 0
    finally:
        server.kill()
    assert "Traceback" not in (tmp_path / "serve.stderr").read_text("utf-8")
