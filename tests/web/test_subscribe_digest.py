"""The digest job with subscriptions, against a real SMTP server (aiosmtpd) and a real
SQLite file: the web's readers get the digest, with links signed for their token
version that the pages accept; whoever unsubscribed gets nothing (even in the middle of
a run, and no retry of an earlier edition); ``trendwatch status`` lists who unsubscribed."""

from __future__ import annotations

import json
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from digests.tokens import MANAGE, UNSUBSCRIBE, Verdict
from pipeline.digest import job as digest_job
from pipeline.settings import Settings, load_settings
from pipeline.store import Store
from pipeline.store.subscribers import Preferences
from pipeline.subscriptions import check_link
from smtp_support import Recorder
from subscribe_support import CONFIG_READER, parse, seed, subscribe_config
from tests_support import trendwatch
from web_support import NOW, SECRET

KEY = SECRET.encode()
PIET = "piet@example.org"
WEB = "web@example.nl"
ALSO_PIET = f'[[subscribers]]\nemail = "{PIET}"\nlanguage = "nl"\nwatchlists = ["thuiswerken"]\n'


def settings_for(tmp_path: Path, port: int) -> Settings:
    settings = load_settings(subscribe_config(tmp_path, smtp_port=port, rest=ALSO_PIET))
    seed(settings, NOW, "Thuiswerken blijft", "Kantoor leeg op vrijdag")
    return settings


def web_reader(store: Store, email: str, nonce: int, weekday: int = 4) -> None:
    """A subscription of the web, confirmed."""
    prefs = Preferences("Web", "nl", ("thuiswerken",), weekday)
    store.add_subscribe_request(
        email, prefs, consent="ja", nonce=nonce, now=NOW, expires=NOW + timedelta(days=3)
    )
    assert store.confirm_request(nonce, NOW) is not None


def mails(recorder: Recorder) -> dict[str, EmailMessage]:
    return {r.rcpt_tos[0]: parse(r.content) for r in recorder.received}


def header_link(message: EmailMessage) -> str:
    header = " ".join(str(message["List-Unsubscribe"]).split())
    return header.split("<https://", 1)[1].split(">", 1)[0]


def test_web_readers_get_the_digest_and_the_unsubscribed_nothing(
    tmp_path: Path, smtpd: tuple[Recorder, int]
) -> None:
    recorder, port = smtpd
    settings = settings_for(tmp_path, port)
    with Store(settings.database) as store:
        web_reader(store, WEB, 1)
        web_reader(store, "back@example.nl", 2)
        prefs = Preferences("", "nl", ("thuiswerken",))
        assert store.unsubscribe("back@example.nl", version=0, now=NOW, preferences=prefs)
        web_reader(store, "back@example.nl", 3)  # subscribed again: version 1
        assert store.unsubscribe(CONFIG_READER, version=0, now=NOW, preferences=prefs)
        report = digest_job.digest(settings, store, now=NOW)
        assert report.ok
        received = mails(recorder)
        assert sorted(received) == ["back@example.nl", PIET, WEB]
        for address, version in ((WEB, 0), ("back@example.nl", 1)):
            message = received[address]
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            token = header_link(message).rsplit("/", 1)[1]
            assert token.startswith("v2." if version == 0 else "v3.")
            check = check_link(settings, store, KEY, token, UNSUBSCRIBE, NOW)
            assert check.verdict is Verdict.VALID and check.holder is not None
            assert check.holder.email == address and check.holder.version == version
            text = str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            manage = text.split("https://digest.example.org/manage/", 1)[1].split()[0]
            assert check_link(settings, store, KEY, manage, MANAGE, NOW).verdict is Verdict.VALID
        # the web's readers on Friday share an edition of their own
        assert sorted(report.built) == [
            "2026-W49/nl-thuiswerken",
            "2026-W49/nl-thuiswerken--fri-0700",
        ]


def test_whoever_unsubscribes_during_a_run_gets_nothing_more(
    tmp_path: Path, smtpd: tuple[Recorder, int]
) -> None:
    recorder, port = smtpd
    settings = settings_for(tmp_path, port)
    with Store(settings.database) as store:
        asked = []

        def stop() -> bool:  # asked before each message: Piet unsubscribes meanwhile
            if not asked:
                prefs = Preferences("", "nl", ("thuiswerken",))
                store.unsubscribe(PIET, version=0, now=NOW, preferences=prefs)
            asked.append(True)
            return False

        report = digest_job.digest(settings, store, now=NOW, stop=stop)
        assert sorted(mails(recorder)) == [CONFIG_READER]
        assert report.unsubscribed == [f"2026-W49/nl-thuiswerken -> {PIET}"]


def test_a_retry_for_someone_who_unsubscribed_is_given_up(
    tmp_path: Path, smtpd: tuple[Recorder, int]
) -> None:
    recorder, port = smtpd
    settings = settings_for(tmp_path, port)
    recorder.rcpt_replies[PIET] = "450 4.2.1 mailbox busy"
    with Store(settings.database) as store:
        digest_job.digest(settings, store, now=NOW)
        assert sorted(mails(recorder)) == [CONFIG_READER]  # Piet's waits for a retry
        prefs = Preferences("", "nl", ("thuiswerken",))
        assert store.unsubscribe(PIET, version=0, now=NOW, preferences=prefs)
        del recorder.rcpt_replies[PIET]
        digest_job.digest(settings, store, now=NOW + timedelta(days=7), retry_now=True)
        [gone] = [d for d in store.deliveries() if d.subscriber == PIET]
        assert gone.status == "failed" and gone.last_error == "given up: no longer a subscriber"
    assert PIET not in {r.rcpt_tos[0] for r in recorder.received}


def test_status_lists_who_unsubscribed(tmp_path: Path) -> None:
    config = subscribe_config(tmp_path, rest=ALSO_PIET)
    settings = load_settings(config)
    with Store(settings.database) as store:
        web_reader(store, WEB, 1)
        web_reader(store, "gone@example.nl", 2)
        prefs = Preferences("", "nl", ("thuiswerken",))
        store.unsubscribe(CONFIG_READER, version=0, now=NOW, preferences=prefs)
        store.unsubscribe(
            "gone@example.nl", version=0, now=NOW + timedelta(hours=1), preferences=prefs
        )
        store.add_subscribe_request(
            "waits@example.nl",
            prefs,
            consent="ja",
            nonce=9,
            now=NOW,
            expires=NOW + timedelta(days=3650),  # open whenever the test runs
        )
    shown = trendwatch("--config", str(config), "status", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Subscribers: 1 from the config, 1 from the web; 1 request to confirm." in shown.stdout
    assert "Unsubscribed (2):" in shown.stdout
    assert "  gone@example.nl on " in shown.stdout
    assert f"  {CONFIG_READER} on " in shown.stdout
    assert "(still in the config; gets nothing)" in shown.stdout.split(CONFIG_READER)[1]
    assert "Next digest nl-thuiswerken--fri-0700" in shown.stdout  # the web reader's Friday
    data = json.loads(trendwatch("--config", str(config), "status", "--json", cwd=tmp_path).stdout)
    gone = data["subscribers"]["unsubscribed"]
    assert [g["email"] for g in gone] == ["gone@example.nl", CONFIG_READER]  # latest first
    assert [g["in_config"] for g in gone] == [False, True]
    assert gone[1]["at"] == "2026-11-30T09:00:00+00:00"
    assert [d["subscribers"] for d in data["next_digests"]] == [[PIET], [WEB]]


def test_a_web_readers_next_digest_can_be_previewed(tmp_path: Path) -> None:
    settings = load_settings(subscribe_config(tmp_path))
    seed(settings, NOW, "Thuiswerken blijft")
    with Store(settings.database) as store:
        web_reader(store, WEB, 1)
        html, _ = digest_job.preview(settings, store, WEB, tmp_path / "preview", now=NOW)
    assert "Thuiswerken blijft" in html.read_text("utf-8")
