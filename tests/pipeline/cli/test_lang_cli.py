"""The command line in Dutch: each main command's output as a user reads it after
``trendwatch --lang nl`` (real runs through click's CliRunner, the demo as a child
process), and how the language is chosen: --lang, $TRENDWATCH_LANG, the config's
``language``, the locale, English."""

from __future__ import annotations

import json
import re
import string
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from jsonl_support import ARTICLES
from pipeline.cli import cli
from pipeline.cli.i18n import (
    choose_language,
    count,
    locale_language,
    reset_language,
    use_language,
)
from pipeline.cli.status_view import duration_text, health_text, short_time
from pipeline.cli.strings import STRINGS, check_complete
from tests_support import trendwatch

RSS = "application/rss+xml; charset=utf-8"
FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Werkvloer</title><link>https://werkvloer.test/</link>
<item><title>Banen erbij in de zorg</title><link>https://werkvloer.test/1</link><guid>w-1</guid>
<description>Zorginstellingen zoeken personeel: er komen banen bij.</description></item>
</channel></rss>"""

CONFIG = """data_dir = "data"
allow_private_networks = true
[crawl]
per_host_delay = 0
[[sources]]
name = "Werkvloer"
url = "{url}"
[[watchlists]]
name = "banen"
title = "Banen"
query = "banen OR jobs"
[[subscribers]]
email = "lezer@example.org"
watchlists = ["banen"]
"""

# no locale, no $TRENDWATCH_LANG: what the options and the config say decides
NEUTRAL = {"COLUMNS": "200", "NO_COLOR": "1", "TRENDWATCH_LANG": "", "LC_ALL": "C.UTF-8"}


def write_config(tmp_path: Path, url: str = "https://werkvloer.test/feed.xml", extra: str = ""):
    path = tmp_path / "trendwatch.toml"
    path.write_text(extra + CONFIG.format(url=url), encoding="utf-8")
    return path


def run(config: Path | None, *args: str, env: dict[str, str] | None = None) -> Result:
    argv = (["--config", str(config)] if config else []) + list(args)
    return CliRunner().invoke(cli, argv, env={**NEUTRAL, **(env or {})})


def said(result: Result) -> str:
    """All the command printed, on standard output and error, white space folded."""
    return " ".join(result.output.split())


# -- how the language is chosen ------------------------------------------------------


def test_the_language_is_the_option_then_env_then_config_then_locale_then_english() -> None:
    dutch_locale = {"LANG": "nl_NL.UTF-8"}
    env_en = {"TRENDWATCH_LANG": "en", **dutch_locale}
    assert choose_language("nl", env_en, "en") == "nl"  # --lang wins over all
    assert choose_language(None, env_en, "nl") == "en"  # then $TRENDWATCH_LANG
    assert choose_language(None, {"TRENDWATCH_LANG": "nl_BE.UTF-8"}, "en") == "nl"
    assert choose_language(None, dutch_locale, "en") == "en"  # then the config
    assert choose_language(None, dutch_locale, None) == "nl"  # then the locale
    assert choose_language(None, {}, None) == "en"  # else English
    assert choose_language(None, {"TRENDWATCH_LANG": ""}, None) == "en"  # empty is unset
    with pytest.raises(ValueError, match=r"\$TRENDWATCH_LANG: expected one of: nl, en"):
        choose_language(None, {"TRENDWATCH_LANG": "fr"}, "nl")


def test_the_locale_is_read_in_posix_order() -> None:
    assert locale_language({"LANG": "nl_NL.UTF-8"}) == "nl"
    assert locale_language({"LC_MESSAGES": "nl_BE", "LANG": "en_GB.UTF-8"}) == "nl"
    assert locale_language({"LC_ALL": "C.UTF-8", "LANG": "nl_NL.UTF-8"}) is None
    assert locale_language({"LC_ALL": "", "LANG": "nl_NL.UTF-8"}) == "nl"  # empty: unset
    assert locale_language({"LANG": "en_US.UTF-8"}) is None
    assert locale_language({}) is None


def test_both_languages_have_every_string_and_a_missing_one_is_refused() -> None:
    assert set(STRINGS["nl"]) == set(STRINGS["en"])
    with pytest.raises(ValueError, match=r"'en': \['check.ok'\]"):
        check_complete({"nl": {"check.ok": "OK"}, "en": {}})


def test_both_languages_fill_in_the_same_values() -> None:
    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    differ = [k for k in STRINGS["en"] if fields(STRINGS["en"][k]) != fields(STRINGS["nl"][k])]
    assert differ == []


def test_the_sources_table_speaks_dutch() -> None:
    tz = ZoneInfo("Europe/Amsterdam")
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    failing = {"health": "failing (3x)", "consecutive_errors": 3}
    token = use_language("nl")
    try:
        assert short_time("2026-10-05T06:22:00+00:00", tz, now) == "5 okt 08:22"
        assert short_time("2025-03-12T06:22:00+00:00", tz, now) == "12 mrt 2025"
        assert [duration_text(s) for s in (86400, 7200, 4320, 30)] == ["1d", "2u", "72m", "30s"]
        assert health_text(failing) == "faalt (3x)"
        assert health_text({"health": "gone, disabled"}) == "verdwenen"
        assert count(1, "new_story") == "1 nieuw verhaal"
        assert count(2, "new_story") == "2 nieuwe verhalen"
    finally:
        reset_language(token)
    assert health_text(failing) == "failing (3x)"
    assert short_time("2026-10-05T06:22:00+00:00", tz, now) == "5 Oct 08:22"


def test_counts_take_the_plural_in_each_language() -> None:
    assert [count(n, "article") for n in (0, 1, 2)] == ["0 articles", "1 article", "2 articles"]
    result = run(None, "--lang", "nl", "init", "--help")  # a run in Dutch ends ...
    assert result.exit_code == 0
    assert count(1, "story") == "1 story"  # ... and leaves English behind


def test_config_language_env_option_and_locale_each_decide_when_the_others_are_silent(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, extra='language = "nl"\n')
    dutch = "OK — 1 bron, 1 onderwerp, 1 abonnee; gegevens in"
    english = "OK — 1 source, 1 watchlist, 1 subscriber; data in"
    assert dutch in said(run(config, "check"))
    assert english in said(run(config, "check", env={"TRENDWATCH_LANG": "en"}))
    assert dutch in said(run(config, "--lang", "nl", "check", env={"TRENDWATCH_LANG": "en"}))
    plain = write_config(tmp_path)
    assert english in said(run(plain, "check"))
    assert dutch in said(run(plain, "check", env={"LC_ALL": "", "LANG": "nl_NL.UTF-8"}))
    assert english in said(run(plain, "check", env={"LC_ALL": "", "LANG": "en_US.UTF-8"}))


def test_a_bad_language_is_a_config_error_naming_file_key_and_expectation(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, extra='language = "fr"\n')
    result = trendwatch("--config", str(config), "check", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "trendwatch.toml: language: expected one of: nl, en, got 'fr'" in result.stderr


def test_a_bad_trendwatch_lang_is_bad_usage(tmp_path: Path) -> None:
    result = run(write_config(tmp_path), "check", env={"TRENDWATCH_LANG": "fr"})
    assert result.exit_code == 2
    assert "$TRENDWATCH_LANG: expected one of: nl, en, got 'fr'" in said(result)


# -- each main command in Dutch ------------------------------------------------------


def test_init_in_dutch(tmp_path: Path) -> None:
    first = run(None, "--lang", "nl", "init", str(tmp_path))
    assert first.exit_code == 0, first.output
    assert "trendwatch.toml geschreven. Pas het aan en voer dan uit:" in said(first)
    again = run(None, "--lang", "nl", "init", str(tmp_path))
    assert again.exit_code == 2
    assert "bestaat al; gebruik --force om het te overschrijven." in said(again)


def test_check_in_dutch(tmp_path: Path) -> None:
    result = run(write_config(tmp_path), "--lang", "nl", "check")
    assert result.exit_code == 0, result.output
    assert "OK — 1 bron, 1 onderwerp, 1 abonnee; gegevens in" in said(result)
    bad = tmp_path / "bad.toml"
    bad.write_text('colour = "blauw"\n[schedule]\ntimezone = "Nergens"\n', encoding="utf-8")
    refused = run(bad, "--lang", "nl", "check")
    assert refused.exit_code == 2
    assert "Ongeldige configuratie (2 problemen):" in said(refused)


def test_crawl_in_dutch(site: HTTPServer, tmp_path: Path) -> None:
    site.expect_request("/feed.xml").respond_with_data(FEED, content_type=RSS)
    config = write_config(tmp_path, site.url_for("/feed.xml"))
    first = run(config, "--lang", "nl", "crawl")
    assert first.exit_code == 0, first.output
    for header in ("Ophalen", "bron", "resultaat", "items", "nieuw", "bijgewerkt", "seconden"):
        assert f"{header} " in first.output, header
    assert re.search(r"Werkvloer .* ok .* 1 .* 1 .* 0 .* \d+,\d\d ", first.output), first.output
    assert "1 bron, 1 nieuw artikel, 0 mislukt." in said(first)
    second = run(config, "--lang", "nl", "crawl")
    assert "Geen bron is aan de beurt; de volgende is aan de beurt op" in said(second)
    assert "Gebruik --all om nu elke bron op te halen." in said(second)
    unknown = run(config, "--lang", "nl", "crawl", "--source", "Onbekend")
    assert unknown.exit_code == 2
    assert "Geen bron met de naam 'Onbekend'; ingesteld: Werkvloer" in said(unknown)


def import_articles(tmp_path: Path, config: Path) -> None:
    articles = tmp_path / "articles.jsonl"
    articles.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    result = run(config, "--lang", "nl", "import", "--jsonl", str(articles))
    assert "2 artikelen gelezen: 2 nieuw, 0 bijgewerkt, 0 ongewijzigd" in said(result)


def test_process_in_dutch(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    import_articles(tmp_path, config)
    result = run(config, "--lang", "nl", "process")
    assert result.exit_code == 0, result.output
    assert (
        "2 artikelen verwerkt: 2 onderwerptreffers, 0 bijna-duplicaten, 1 nieuw verhaal."
        in said(result)
    )
    again = run(config, "--lang", "nl", "process", "--reprocess")
    assert "Alles opnieuw verwerken: 2 artikelen." in said(again)


def test_digest_summary_in_dutch(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    import_articles(tmp_path, config)
    assert run(config, "process").exit_code == 0
    result = run(config, "--lang", "nl", "digest", "--dry-run")
    assert result.exit_code == 0, result.output
    text = said(result)
    assert re.search(r"Editie \S+ \(gemaakt\)", text), text
    assert "Proefrun: niets verzonden." in text
    assert "Archief: " in text
    assert "Edition" not in text and "Archive:" not in text


def test_status_in_dutch(site: HTTPServer, tmp_path: Path) -> None:
    site.expect_request("/feed.xml").respond_with_data(FEED, content_type=RSS)
    config = write_config(tmp_path, site.url_for("/feed.xml"))
    assert run(config, "crawl").exit_code == 0
    result = run(config, "--lang", "nl", "status")
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "Bronnen (tijden in Europe/Amsterdam)" in text
    assert re.search(r"bron +soort +staat +artikelen +fouten +laatst ok", result.output)
    assert re.search(r"Werkvloer +feed +ok +1 ", result.output), result.output
    assert "1 artikel; deze week 1 nieuw artikel, 0 treffers en 0 verhalen." in text
    assert "Planner: draait niet (start hem met: trendwatch run)" in text
    assert "Volgende ophaalronde: " in text
    assert re.search(r"Volgende digest \S+: (ma|di|wo|do|vr|za|zo) \d{4}-", text), text
    assert "Abonnees: 1 uit de configuratie, 0 via de website." in text


def test_sources_in_dutch(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    opml = tmp_path / "bronnen.opml"
    exported = run(config, "--lang", "nl", "sources", "export", "-o", str(opml))
    assert exported.exit_code == 0, exported.output
    assert f"1 bron geëxporteerd naar {opml}." in said(exported)
    enabled = run(config, "--lang", "nl", "sources", "enable", "Werkvloer")
    assert "Bron 'Werkvloer' staat aan en is aan de beurt bij de volgende ophaalronde." in said(
        enabled
    )
    unknown = run(config, "--lang", "nl", "sources", "enable", "Onbekend")
    assert unknown.exit_code == 2 and "Geen bron met de naam 'Onbekend' in" in said(unknown)


def test_archive_in_dutch(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    import_articles(tmp_path, config)
    assert run(config, "process").exit_code == 0
    assert run(config, "digest", "--dry-run").exit_code == 0
    result = run(config, "--lang", "nl", "archive")
    assert result.exit_code == 0, result.output
    wrote = said(result)
    assert re.search(r"\d+ bestanden geschreven; index: \S+index\.html", wrote), wrote


def test_demo_in_dutch(tmp_path: Path) -> None:
    result = trendwatch("--lang", "nl", "demo", str(tmp_path / "demo"), cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    text = " ".join(result.stdout.split())
    for line in (
        "Demofeeds op http://127.0.0.1:",
        "feeds opgehaald:",
        "nieuwe artikelen, 0 mislukt.",
        "artikelen verwerkt:",
        "onderwerptreffers,",
        "(nieuw)",
        "digests bezorgd.",
        "Waar je alles vindt",
        "postvak uit:",
        "(.eml-bestanden, te openen met elk mailprogramma)",
        "Bekijk het op http://127.0.0.1:8080/ (Ctrl-C stopt het):",
    ):
        assert line in text, (line, result.stdout)
