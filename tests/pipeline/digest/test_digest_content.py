"""What a digest holds, built from a processed store: stories led once with "ook bij"
and "Lees ook", stories not repeated unless they grew, the quiet-week rule, rising
terms, personal unsubscribe links (RFC 8058), preview, template_dir and the archive."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from digests.tokens import MANAGE, resolve_token, subscriber_id
from pipeline import jsonl
from pipeline.cli import cli
from pipeline.digest import job as digest_job
from pipeline.digest import secret as digest_secret
from pipeline.process import job as process_job
from pipeline.settings import ConfigError, ConfigProblem
from pipeline.store import Store

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # Thursday of ISO week 48

JUMBO = (
    "Supermarktketen Jumbo schrapt 300 banen op het hoofdkantoor in Veghel. Dat heeft het"
    " bedrijf woensdag bekendgemaakt. Volgens Jumbo is de reorganisatie nodig omdat de"
    " kosten sneller stijgen dan de omzet. De ondernemingsraad van Jumbo is geschrokken en"
    " vakbond FNV wil snel met de directie om tafel. Medewerkers in Veghel hoorden het"
    " nieuws tijdens een personeelsbijeenkomst. Het bedrijf wil gedwongen ontslagen zoveel"
    " mogelijk voorkomen en biedt begeleiding naar ander werk."
)
JUMBO_REWRITE = (
    "In Veghel verdwijnen bij Jumbo 300 banen. De supermarktketen wil met de reorganisatie"
    " de stijgende kosten beteugelen, zo liet Jumbo woensdag weten. FNV noemt het nieuws"
    " een klap voor de medewerkers in Veghel en wil overleg met de directie van Jumbo."
)
JUMBO_FNV = (
    "Vakbond FNV eist garanties voor de medewerkers van Jumbo in Veghel. De bond wil dat"
    " niemand gedwongen vertrekt bij de reorganisatie waarbij 300 banen verdwijnen."
)
PLUS = (  # matches no watchlist: it can only appear under "Lees ook"
    "Supermarkt Plus opent een nieuw distributiecentrum in Ede en neemt 150 mensen"
    " aan. Ook Jumbo zoekt in de regio personeel voor de winkels."
)

CONFIG = """
base_url = "https://digest.example.org"
secret_env = "TW_TEST_SECRET"
[[watchlists]]
name = "banen"
title = "Banen en ontslag"
query = "banen OR medewerkers"
[[watchlists]]
name = "burnout"
title = "Burn-out"
query = "burnout OR burn-out"
[[subscribers]]
email = "sanne@example.nl"
name = "Sanne"
language = "nl"
watchlists = ["banen", "burnout"]
[[subscribers]]
email = "stil@example.nl"
language = "nl"
watchlists = ["burnout"]
[[subscribers]]
email = "altijd@example.nl"
language = "nl"
watchlists = ["burnout"]
send_empty = true
"""
SECRET = "a-secret-of-at-least-16-bytes"


def _jsonl(path: Path, rows: list[tuple[str, str, str, str, datetime]]) -> Path:
    lines = [
        json.dumps(
            {
                "id": id_,
                "title": title,
                "text": text,
                "source": source,
                "url": f"https://{source.lower()}.example/{id_}",
                "published": when.isoformat(),
                "lang": "nl",
            }
        )
        for id_, title, text, source, when in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _seed(settings, tmp_path: Path, rows, now: datetime = NOW) -> None:
    with Store(settings.db_path) as store:
        jsonl.import_jsonl(store, _jsonl(tmp_path / f"in-{now:%j}.jsonl", rows), now=now)
        process_job.process(settings, store, now=now)


def _mails(recorder) -> dict[str, email.message.EmailMessage]:
    out = {}
    for m in recorder.received:
        msg = email.message_from_bytes(m.content, policy=email.policy.default)
        out[str(msg["To"]).split("<")[-1].rstrip(">")] = msg
    return out


def _smtp(port: int) -> str:
    return f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom = "Digest <digest@example.org>"\n'


WEEK = [
    ("j1", "Jumbo schrapt 300 banen in Veghel", JUMBO, "NOS", NOW - timedelta(days=2)),
    ("j2", "Jumbo: 300 banen weg in Veghel", JUMBO_REWRITE, "Omroep", NOW - timedelta(days=2)),
    ("j3", "FNV eist garanties bij Jumbo", JUMBO_FNV, "Vakblad", NOW - timedelta(days=1)),
    ("p1", "Plus opent distributiecentrum in Ede", PLUS, "Regio", NOW - timedelta(days=1)),
]


def test_a_story_is_led_once_with_its_other_sources_and_related_items(
    make_settings, tmp_path, smtpd, monkeypatch
) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    recorder, port = smtpd
    settings = make_settings(CONFIG + _smtp(port))
    _seed(settings, tmp_path, WEEK)
    with Store(settings.db_path) as store:
        report = digest_job.digest(settings, store, now=NOW)
        stories = {r["import_id"]: r["story_id"] for r in jobs_export(store)}
    assert report.ok
    assert stories["j1"] == stories["j2"] == stories["j3"] != stories["p1"]
    mail = _mails(recorder)["sanne@example.nl"]
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    # one item for the Jumbo story, led by the earliest canonical article (NOS); the
    # other reports are named under "Ook bij", not shown as items of their own
    assert "<https://nos.example/j1>" not in text  # (sanity: plain URLs in the text part)
    assert text.count("* ") == 1 and "* Jumbo schrapt 300 banen in Veghel" in text
    assert "Jumbo: 300 banen weg in Veghel" not in text and "FNV eist" not in text
    assert "Ook bij" in text and "Omroep" in text and "Vakblad" in text
    assert html.count('href="https://omroep.example/j2"') == 1
    assert "https://omroep.example/j2" in text and "https://vakblad.example/j3" in text
    # the Plus article shares a name (Jumbo) with the story: "Lees ook" links it
    assert "Lees ook" in text and "https://regio.example/p1" in text
    assert "Plus opent distributiecentrum in Ede (Regio)" in text
    # the quiet watchlist says so in one line
    assert "Geen nieuws over Burn-out deze week" in text


def jobs_export(store: Store) -> list[dict]:
    from pipeline.jsonl import iter_export

    return list(iter_export(store.export_rows()))


YESTERDAY = [(*row[:4], NOW - timedelta(days=1)) for row in WEEK[:2]]
MONDAY = NOW + timedelta(days=4)  # week 49; its period reaches back over Thursday


def test_a_story_sent_last_week_is_not_repeated(make_settings, tmp_path, smtpd, monkeypatch):
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    recorder, port = smtpd
    assert not recorder.received
    settings = make_settings(CONFIG + _smtp(port))
    _seed(settings, tmp_path, YESTERDAY)
    with Store(settings.db_path) as store:
        first = digest_job.digest(settings, store, now=NOW)
        second = digest_job.digest(settings, store, now=MONDAY)
    assert any("sanne@example.nl" in line for line in first.sent)
    assert any("sanne@example.nl" in line for line in second.empty)  # nothing new to say


def test_a_story_that_grew_comes_back(make_settings, tmp_path, smtpd, monkeypatch) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    recorder, port = smtpd
    settings = make_settings(CONFIG + _smtp(port))
    _seed(settings, tmp_path, YESTERDAY)
    with Store(settings.db_path) as store:
        digest_job.digest(settings, store, now=NOW)
    grown = ("j9", "Jumbo-medewerkers in Veghel voeren actie", JUMBO_FNV, "Krant", NOW)
    _seed(settings, tmp_path, [grown], now=NOW + timedelta(hours=6))
    with Store(settings.db_path) as store:
        stories = {r["import_id"]: r["story_id"] for r in jobs_export(store)}
        again = digest_job.digest(settings, store, now=MONDAY)
    assert stories["j9"] == stories["j1"]  # it grew the story, it did not start one
    assert any("sanne@example.nl" in line for line in again.sent)
    week49 = [
        email.message_from_bytes(m.content, policy=email.policy.default)
        for m in recorder.received
        if b"Week 49" in m.content and b"sanne@example.nl" in m.content
    ]
    text = week49[0].get_body(("plain",)).get_content()
    assert "Ook bij" in text and "https://krant.example/j9" in text


def test_an_empty_digest_is_sent_only_to_who_asked(
    make_settings, tmp_path, smtpd, monkeypatch
) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    recorder, port = smtpd
    settings = make_settings(CONFIG + _smtp(port))
    _seed(settings, tmp_path, WEEK)
    with Store(settings.db_path) as store:
        report = digest_job.digest(settings, store, now=NOW)
    received = set(_mails(recorder))
    assert received == {"sanne@example.nl", "altijd@example.nl"}
    assert any("stil@example.nl" in line for line in report.empty)
    lone = _mails(recorder)["altijd@example.nl"].get_body(("plain",)).get_content()
    assert "Geen nieuws over Burn-out deze week" in lone


def test_unsubscribe_headers_and_personal_links(
    make_settings, tmp_path, smtpd, monkeypatch
) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    recorder, port = smtpd
    settings = make_settings(CONFIG + _smtp(port))
    _seed(settings, tmp_path, WEEK)
    with Store(settings.db_path) as store:
        digest_job.digest(settings, store, now=NOW)
    mail = _mails(recorder)["sanne@example.nl"]
    header = " ".join(str(mail["List-Unsubscribe"]).split())
    assert "<mailto:digest@example.org?subject=unsubscribe>" in header
    url = header.split("<https://", 1)[1].split(">", 1)[0]
    assert url.startswith("digest.example.org/unsubscribe/")
    token = url.rsplit("/", 1)[1]
    readers = [s.email for s in settings.subscribers]
    assert resolve_token(SECRET.encode(), token, readers) == "sanne@example.nl"
    assert resolve_token(b"another-secret-of-16-bytes", token, readers) is None
    # the links carry an opaque id, not the address (nor its base64, "c2FubmVAZXhhbXBsZS5ubA")
    assert "sanne" not in header.casefold() and "c2FubmVAZXhhbXBsZS5ubA" not in header
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    assert f"https://{url}" in text and "https://digest.example.org/manage/" in text
    manage = text.split("https://digest.example.org/manage/", 1)[1].split()[0]
    assert resolve_token(SECRET.encode(), manage, readers, MANAGE) == "sanne@example.nl"
    assert "c2FubmVAZXhhbXBsZS5ubA" not in text
    # the archive pages (web versions) of both audiences exist...
    week = settings.archive_dir / "2026" / "W48"
    pages = {p.name: p.read_text("utf-8") for p in week.glob("*.html")}
    assert sorted(pages) == ["nl-banen_burnout.html", "nl-burnout.html"]
    assert "Jumbo schrapt 300 banen in Veghel" in pages["nl-banen_burnout.html"]  # Sanne's
    # ...and the archive (pages, indexes, feed) carries no token, id or address
    sid = subscriber_id(SECRET.encode(), "sanne@example.nl")
    files = [p for p in settings.archive_dir.rglob("*") if p.is_file()]
    for p in files:
        body = p.read_text("utf-8")
        for secret_thing in (token, manage, sid, "sanne@example.nl", "/unsubscribe/"):
            assert secret_thing not in body, (p, secret_thing)


def test_without_secret_env_a_secret_is_kept_in_the_data_folder(
    make_settings, tmp_path, smtpd
) -> None:
    recorder, port = smtpd
    settings = make_settings(CONFIG.replace('secret_env = "TW_TEST_SECRET"\n', "") + _smtp(port))
    _seed(settings, tmp_path, WEEK)
    with Store(settings.db_path) as store:
        digest_job.digest(settings, store, now=NOW)
    key = settings.data_dir / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    header = str(_mails(recorder)["sanne@example.nl"]["List-Unsubscribe"])
    token = " ".join(header.split()).split("/unsubscribe/")[1].split(">")[0]
    readers = [s.email for s in settings.subscribers]
    assert resolve_token(key.read_text().strip().encode(), token, readers) == "sanne@example.nl"


def test_secret_env_needs_16_bytes_and_fewer_is_a_config_error(
    make_settings, tmp_path, monkeypatch
) -> None:
    settings = make_settings(CONFIG)
    monkeypatch.setenv("TW_TEST_SECRET", "0123456789abcdef")
    assert digest_secret.token_secret(settings) == b"0123456789abcdef"
    monkeypatch.setenv("TW_TEST_SECRET", "0123456789abcde")
    problem = ConfigProblem(
        str(settings.path),
        "secret_env",
        "environment variable TW_TEST_SECRET must hold a secret of at least 16 bytes"
        " (16 ASCII characters)",
    )
    with pytest.raises(ConfigError) as info:
        digest_secret.token_secret(settings)
    assert info.value.problems == [problem]
    # as the user meets it: the command stops with exit status 2 and names the problem
    out = tmp_path / "preview"
    argv = ["--config", str(settings.path), "digest", "--preview", "sanne@example.nl"]
    argv += ["--out", str(out)]
    refused = CliRunner().invoke(cli, argv)
    assert refused.exit_code == 2 and not out.exists()
    said = " ".join(refused.stderr.split())
    assert said.startswith("Invalid configuration (1 problem):")
    assert f"secret_env: {problem.message}" in said
    monkeypatch.setenv("TW_TEST_SECRET", "0123456789abcdef")
    accepted = CliRunner().invoke(cli, argv)
    assert accepted.exit_code == 0, accepted.output
    assert len(list(out.iterdir())) == 2  # the HTML and the text


def test_preview_writes_files_and_records_nothing(make_settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    settings = make_settings(CONFIG)
    _seed(settings, tmp_path, WEEK)
    with Store(settings.db_path) as store:
        html, text = digest_job.preview(
            settings, store, "Sanne@example.nl", tmp_path / "preview", now=NOW
        )
        assert store.editions() == [] and store.deliveries() == []
    assert "Jumbo schrapt 300 banen in Veghel" in html.read_text("utf-8")
    assert "/unsubscribe/" in text.read_text("utf-8")
    assert not settings.outbox_dir.exists() and not settings.archive_dir.exists()


def test_template_dir_overrides_a_template(make_settings, tmp_path, smtpd, monkeypatch) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    recorder, port = smtpd
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "edition.txt.j2").write_text(
        "EIGEN SJABLOON {{ title }}\n{% for s in sections %}{{ s.title }}\n{% endfor %}",
        encoding="utf-8",
    )
    settings = make_settings(f'template_dir = "{templates}"\n' + CONFIG + _smtp(port))
    _seed(settings, tmp_path, WEEK)
    with Store(settings.db_path) as store:
        digest_job.digest(settings, store, now=NOW)
    mail = _mails(recorder)["sanne@example.nl"]
    assert mail.get_body(("plain",)).get_content().startswith("EIGEN SJABLOON")
    assert "<table" in mail.get_body(("html",)).get_content()  # the packaged HTML


def test_archive_indexes_and_feed_are_written(make_settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TW_TEST_SECRET", SECRET)
    settings = make_settings(CONFIG)
    _seed(settings, tmp_path, WEEK)
    with Store(settings.db_path) as store:
        digest_job.digest(settings, store, now=NOW, dry_run=True)
    archive = settings.archive_dir
    assert (archive / "index.html").is_file() and (archive / "2026" / "index.html").is_file()
    assert (archive / "watchlists" / "banen.html").is_file()
    feed = (archive / "feed.xml").read_text("utf-8")
    assert "<feed" in feed and "https://digest.example.org/archive/2026/W48/" in feed
