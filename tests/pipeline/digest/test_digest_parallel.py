"""New editions built in two processes (pipeline.digest.parallel) are the editions,
archive pages and mails of one process, and a failing second process loses nothing."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_digest_job import ARTICLES, NOW, WATCHLISTS, article, seed

from digests.model import Recipient
from digests.personalise import EditionRenderer
from digests.render import edition_renderer, render_edition
from pipeline.digest import job as digest_job
from pipeline.digest import parallel
from pipeline.digest.build import edition_row
from pipeline.digest.editions import period_ending
from pipeline.digest.frozen import edition_to_json
from pipeline.settings import Settings, load_settings
from pipeline.store import Store

# six audiences: two languages times three combinations of the two watchlists
READERS = "".join(
    f'[[subscribers]]\nemail = "{name}@example.{lang}"\nname = "{name.title()}"\n'
    f'language = "{lang}"\nwatchlists = {lists}\n'
    for name, lang, lists in [
        ("anna", "nl", '["thuiswerken"]'),
        ("bert", "nl", '["social-media-werk"]'),
        ("cees", "nl", '["thuiswerken", "social-media-werk"]'),
        ("dora", "en", '["thuiswerken"]'),
        ("evert", "en", '["social-media-werk"]'),
        ("fleur", "en", '["thuiswerken", "social-media-werk"]'),
    ]
)
MORE = [
    article(
        10 + n,
        f"Thuiswerken en social media op het werk, deel {n}",
        f"Deel {n}: thuiswerken verandert hoe collega's social media gebruiken voor hun werk.",
        age=timedelta(days=1 + n % 3),
    )
    for n in range(6)
]
SENDER = (
    'secret_env = "TW_TEST_DIGEST_SECRET"\n'
    'from = "Trendwatch <digest@trendwatch.test>"\nbase_url = "https://digest.test"\n'
)


def settings_in(directory: Path) -> Settings:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "trendwatch.toml"
    path.write_text('data_dir = "data"\n' + SENDER + WATCHLISTS + READERS, encoding="utf-8")
    return load_settings(path)


@pytest.fixture(autouse=True)
def one_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every data folder signs links with the same secret (the mails are compared)."""
    monkeypatch.setenv("TW_TEST_DIGEST_SECRET", "s" * 40)


@pytest.fixture
def patient_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process claims an edition only once the second one took its first: the
    second process builds at least one however slowly it starts."""
    claim, this = parallel._claim, os.getpid()
    first: dict[int, int] = {}  # the counter's value when this process first claimed

    def patient(counter: Any, count: int) -> int | None:
        deadline = time.monotonic() + 120
        start = first.setdefault(id(counter), counter.value)  # (forked: it built the first)
        # (a forked second process has this function too: it claims at once)
        while os.getpid() == this and counter.value == start and time.monotonic() < deadline:
            time.sleep(0.02)
        return claim(counter, count)

    monkeypatch.setattr(parallel, "_claim", patient)


def jobs_of(settings: Settings) -> list[Any]:
    return [
        (audience, period_ending(NOW, audience.when.timezone))
        for audience in digest_job.digest_audiences(settings)
    ]


@pytest.mark.both_databases
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_editions_built_by_two_processes_are_those_built_by_one(
    tmp_path: Path,
    configured_database: str,
    patient_claims: None,
    method: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parallel, "start_method", lambda: method)
    settings = settings_in(tmp_path)
    reader = Recipient(email="fleur@example.en", name="Fleur", language="en")
    with Store(settings.database) as store:
        seed(settings, store, ARTICLES + MORE)
        jobs = jobs_of(settings)
        helper = parallel.Helper()
        two = list(
            parallel.build_editions(settings, store, jobs, NOW, helper=helper, parallel_from=2)
        )
        one = list(parallel.build_editions(settings, store, jobs, NOW, parallel_from=100))
    assert helper.used and helper.error is None and 1 <= helper.built <= len(jobs)
    assert helper.cpu > 0  # what it reported when it ended
    assert [edition_to_json(b.edition) for b in two] == [edition_to_json(b.edition) for b in one]
    assert any(b.edition.item_count for b in one)
    for mine, theirs in zip(one, two, strict=True):
        if theirs.row is None:  # built by this process, as one process does
            continue
        assert theirs.row == edition_row(mine.edition)
        renderer = edition_renderer(
            mine.edition, template_dir=settings.template_dir, sender=settings.sender
        )
        assert theirs.page == renderer.archive_html()
        # its mail's skeleton, taken over, renders every reader's mail as it would
        adopting = EditionRenderer(
            theirs.edition, template_dir=settings.template_dir, sender=settings.sender
        )
        adopting.adopt(theirs.skeletons or {})
        assert adopting.render(reader) == render_edition(
            mine.edition, reader, sender=settings.sender, template_dir=settings.template_dir
        )


def test_a_second_process_that_fails_leaves_every_edition_built_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_in(tmp_path)
    with Store(settings.database) as store:
        seed(settings, store, ARTICLES + MORE)
        jobs = jobs_of(settings)
        # the second process cannot open the store: no server listens there
        broken = replace(settings, database_url="postgresql://nobody@127.0.0.1:1/none")
        helper = parallel.Helper()
        built = list(
            parallel.build_editions(broken, store, jobs, NOW, helper=helper, parallel_from=2)
        )
        one = list(parallel.build_editions(settings, store, jobs, NOW, parallel_from=100))
    assert helper.error is not None and helper.built == 0
    assert "second process stopped" in caplog.text
    assert [edition_to_json(b.edition) for b in built] == [edition_to_json(b.edition) for b in one]


def normalised(path: Path) -> bytes:
    raw = path.read_bytes()
    boundary = email.message_from_bytes(raw, policy=email.policy.default).get_boundary()
    raw = raw.replace(str(boundary).encode(), b"BOUNDARY")
    return re.sub(rb"^Date: .*$", b"Date: X", raw, flags=re.M)


def test_the_job_with_two_processes_stores_archives_and_mails_what_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, patient_claims: None
) -> None:
    one, two = settings_in(tmp_path / "one"), settings_in(tmp_path / "two")
    with Store(one.database) as store:
        seed(one, store, ARTICLES + MORE)
    two.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(one.db_path, two.db_path)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 10**6)
    with Store(one.database) as store:
        alone = digest_job.digest(one, store, now=NOW)
        stored_one = [(r.key, r.data) for r in store.editions()]
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)
    with Store(two.database) as store:
        shared = digest_job.digest(two, store, now=NOW)
        stored_two = [(r.key, r.data) for r in store.editions()]
    assert "editions (2nd process)" in shared.phases.cpu
    assert "editions (2nd process)" not in alone.phases.cpu
    assert shared.built == alone.built and len(shared.built) == 7
    assert shared.sent == alone.sent and len(shared.sent) == 9
    assert stored_two == stored_one
    for folder in ("outbox", "archive"):
        files_one = sorted(p.relative_to(one.data_dir) for p in (one.data_dir / folder).rglob("*"))
        files_two = sorted(p.relative_to(two.data_dir) for p in (two.data_dir / folder).rglob("*"))
        assert files_one == files_two and files_one
        for name in files_one:
            if (one.data_dir / name).is_file():
                read = normalised if folder == "outbox" else Path.read_bytes
                assert read(two.data_dir / name) == read(one.data_dir / name), name


def test_processes_1_builds_every_edition_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_in(tmp_path)
    settings = replace(settings, digest=replace(settings.digest, processes=1))
    with Store(settings.database) as store:
        seed(settings, store, ARTICLES + MORE)
        monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)
        report = digest_job.digest(settings, store, now=NOW)
    assert len(report.built) == 7 and len(report.sent) == 9
    assert "editions (2nd process)" not in report.phases.cpu


def test_building_leaves_no_object_frozen_nor_thaws_the_callers(tmp_path: Path) -> None:
    """While building, what the run holds is kept out of the collector's passes
    (``gc.freeze``); once building is over everything is under the collector again
    (a long-running ``trendwatch run`` must not keep it out), and objects a caller
    froze itself stay frozen."""
    import gc

    settings = settings_in(tmp_path)
    already = gc.get_freeze_count()  # (what other code in this process froze)
    gc.unfreeze()
    try:
        with Store(settings.database) as store:
            seed(settings, store, ARTICLES + MORE)
            jobs = jobs_of(settings)
            built = parallel.build_editions(settings, store, jobs, NOW, parallel_from=100)
            first = next(built)
            assert gc.get_freeze_count() > 0  # (the rows read, the first edition)
            rest = list(built)
            assert gc.get_freeze_count() == 0
            gc.freeze()
            frozen = gc.get_freeze_count()
            again = list(parallel.build_editions(settings, store, jobs, NOW, parallel_from=100))
            # the caller's left frozen (less those that died), none added
            assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
        if already:
            gc.freeze()
    assert [edition_to_json(b.edition) for b in [first, *rest]] == [
        edition_to_json(b.edition) for b in again
    ]
