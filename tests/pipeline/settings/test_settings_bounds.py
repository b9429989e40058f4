"""Bounds of the config: every text value has a length limit and every number a range,
and a file the TOML reader cannot take (too deep, too long a number, too big) is a
config problem, never a traceback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from settings_support import load
from settings_support import only as only_problem
from settings_support import problems as found

SOURCE = 'name = "Bron"\nurl = "https://example.org/feed.xml"\n'
WATCHLIST = 'name = "werk"\ntitle = "Werk"\nquery = "werk"\n'
SMTP = "[smtp]\nfrom = 'a@example.org'\n"


def only(tmp_path: Path, text: str) -> tuple[str, str]:
    """The one problem found, as (key, message)."""
    problem = only_problem(tmp_path, text)
    return problem.key, problem.message


# --------------------------------------------------------------------------- text


def test_a_name_of_200_characters_is_fine_and_201_is_refused(tmp_path: Path) -> None:
    ok = load(tmp_path, f'[[sources]]\nname = "{"n" * 200}"\nurl = "https://example.org/f"\n')
    assert len(ok.sources[0].name) == 200
    assert only(
        tmp_path, f'[[sources]]\nname = "{"n" * 201}"\nurl = "https://example.org/f"\n'
    ) == ("sources[0].name", "expected at most 200 characters, got 201")


def test_a_huge_source_name_is_refused_with_key_and_limit(tmp_path: Path) -> None:
    name = "x" * 4_000_000
    problems = found(tmp_path, f'[[sources]]\nname = "{name}"\nurl = "https://example.org/f"\n')
    assert [(p.key, p.message) for p in problems] == [
        ("sources[0].name", "expected at most 200 characters, got 4,000,000")
    ]


@pytest.mark.parametrize(
    ("text", "key", "limit", "length"),
    [
        ('digest_title = "{}"\n', "digest_title", 500, 501),
        ("[[watchlists]]\nname='w'\ntitle='{}'\nquery='q'\n", "watchlists[0].title", 500, 501),
        ("[[watchlists]]\nname='w'\ntitle='W'\nquery='{}'\n", "watchlists[0].query", 1000, 1001),
        ('base_url = "https://example.org/{}"\n', "base_url", 2048, 2049),
        ('data_dir = "{}"\n', "data_dir", 4096, 4097),
        ("[crawl]\nuser_agent = '{}'\n", "crawl.user_agent", 500, 501),
        (SMTP + "username = '{}'\n", "smtp.username", 200, 201),
        ('[nlp]\nmodels = {{ nl = "{}" }}\n', "nlp.models.nl", 200, 201),
        # a string where a number belongs is bounded too: the default, names' 200
        ("[crawl]\ntimeout = '{}'\n", "crawl.timeout", 200, 201),
    ],
)
def test_every_kind_of_text_has_its_bound(
    tmp_path: Path, text: str, key: str, limit: int, length: int
) -> None:
    fill = "a" * (length - len("https://example.org/") if key == "base_url" else length)
    assert only(tmp_path, text.format(fill)) == (
        key,
        f"expected at most {limit:,} characters, got {length:,}",
    )


def test_array_items_are_bounded_one_by_one(tmp_path: Path) -> None:
    text = (
        f'[[sources]]\n{SOURCE}categories = ["HR", "{"c" * 201}"]\n'
        f'[[sources]]\nname = "Blog"\ntype = "blog"\nurl = "https://example.org/"\n'
        f'allow = ["/blog/", "{"a" * 1001}"]\n'
        f'[[watchlists]]\n{WATCHLIST}entities = ["{"e" * 201}"]\n'
        f'[[subscribers]]\nemail = "a@example.org"\nwatchlists = ["werk", "{"w" * 201}"]\n'
    )
    assert {p.key: p.message for p in found(tmp_path, text)} == {
        "sources[0].categories[1]": "expected at most 200 characters, got 201",
        "sources[1].allow[1]": "expected at most 1,000 characters, got 1,001",
        "watchlists[0].entities[0]": "expected at most 200 characters, got 201",
        "subscribers[0].watchlists[1]": "expected at most 200 characters, got 201",
    }


def test_a_huge_unknown_key_is_shown_shortened(tmp_path: Path) -> None:
    key, message = only(tmp_path, f"{'k' * 100_000} = 1\n")
    assert key == '"' + "k" * 199 + '…"'
    assert message.startswith("unknown key; expected one of: data_dir,")


# --------------------------------------------------------------------------- numbers


BLOG = "[[sources]]\nname = 'B'\ntype = 'blog'\nurl = 'https://e.org/'\n"


@pytest.mark.parametrize("value", ["inf", "+inf", "-inf", "nan", "1e300"])
@pytest.mark.parametrize(
    ("table", "key", "expected"),
    [
        ("[crawl]\n", "crawl.timeout", "a number of seconds from 0.1 to 600"),
        ("[crawl]\n", "crawl.per_host_delay", "a number of seconds from 0 to 3600"),
        (SMTP, "smtp.timeout", "a number of seconds from 0.1 to 600"),
        (BLOG, "sources[0].timeout", "a number of seconds from 1 to 86400"),
        (BLOG, "sources[0].delay", "a number of seconds from 0 to 3600"),
    ],
)
def test_no_number_switches_a_limit_off(
    tmp_path: Path, value: str, table: str, key: str, expected: str
) -> None:
    shown = {"+inf": "inf", "1e300": "1e+300"}.get(value, value)
    assert only(tmp_path, f"{table}{key.rsplit('.', 1)[1]} = {value}\n") == (
        key,
        f"expected {expected}, got number {shown}",
    )


def test_numbers_at_the_ends_of_their_ranges_are_fine(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        "[crawl]\ntimeout = 600\nper_host_delay = 3600\n"
        "[smtp]\nfrom = 'a@example.org'\ntimeout = 0.1\n" + BLOG + "timeout = 86400\n",
    )
    assert (settings.crawl.timeout, settings.crawl.per_host_delay) == (600.0, 3600.0)
    assert settings.smtp is not None and settings.smtp.timeout == 0.1
    assert settings.sources[0].blog is not None and settings.sources[0].blog.timeout == 86400.0


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (
            "[schedule]\ncrawl_every = '8d'\n",
            "schedule.crawl_every",
            "expected a duration from 1s to 7d, got '8d'",
        ),
        (
            "[schedule]\ndigest_grace = '169h'\n",
            "schedule.digest_grace",
            "expected a duration from 1s to 7d, got '169h'",
        ),
        (
            "[nlp]\nstory_window = '59m'\n",
            "nlp.story_window",
            "expected a duration from 1h to 90d, got '59m'",
        ),
        (
            f"[[sources]]\n{SOURCE}max_interval = '31d'\n",
            "sources[0].max_interval",
            "expected a duration from 1s to 30d, got '31d'",
        ),
        (
            # far more than a timedelta holds (was: "is too long", with no range)
            f"[schedule]\ncrawl_every = '{'9' * 150}s'\n",
            "schedule.crawl_every",
            f"expected a duration from 1s to 7d, got '{'9' * 57}...'",
        ),
        (
            f"[crawl]\nmax_bytes = '{'9' * 150}'\n",
            "crawl.max_bytes",
            "expected a size in bytes such as 15728640, '15MiB' or '500KB' (at least 1KiB),"
            f" got '{'9' * 57}...'",
        ),
        (
            f"[crawl]\nper_host = {'9' * 40}\n",
            "crawl.per_host",
            "expected a whole number from 1 to 1000, got integer of more than 30 digits",
        ),
    ],
)
def test_durations_and_sizes_have_ranges(tmp_path: Path, text: str, key: str, message: str) -> None:
    assert only(tmp_path, text) == (key, message)


def test_durations_at_the_ends_of_their_ranges_are_fine(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        "[schedule]\ncrawl_every = '7d'\ndigest_grace = '1s'\n[nlp]\nstory_window = '90d'\n"
        f"[[sources]]\n{SOURCE}min_interval = '1s'\nmax_interval = '30d'\n",
    )
    assert settings.schedule.crawl_every == timedelta(days=7)
    assert settings.schedule.digest_grace == timedelta(seconds=1)
    assert settings.nlp.story_window == timedelta(days=90)
    assert settings.sources[0].max_interval == timedelta(days=30)


# --------------------------------------------------------------------------- the file


def test_arrays_nested_500_deep_are_a_config_problem(tmp_path: Path) -> None:
    assert only(tmp_path, "x = " + "[" * 500 + "]" * 500 + "\n") == (
        "",
        "invalid TOML: arrays or inline tables nested too deeply",
    )


def test_inline_tables_nested_500_deep_are_a_config_problem(tmp_path: Path) -> None:
    assert only(tmp_path, "x = " + "{a = " * 500 + "1" + " }" * 500 + "\n") == (
        "",
        "invalid TOML: arrays or inline tables nested too deeply",
    )


def test_an_integer_of_5000_digits_is_a_config_problem(tmp_path: Path) -> None:
    assert only(tmp_path, f"[crawl]\nper_host = {'7' * 5000}\n") == (
        "",
        "invalid TOML: a number of more than 4300 digits",
    )


def test_a_file_over_16_mib_is_refused_unread(tmp_path: Path) -> None:
    text = "# " + "x" * (16 * 1024 * 1024) + "\n"
    assert only(tmp_path, text) == ("", "larger than 16 MiB; expected a config file")
