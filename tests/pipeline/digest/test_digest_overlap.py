"""Delivering each edition while the next ones are built (``digest(overlap=True)``,
the default) sends what building them all first (``overlap=False``) sends: the same
mails, header for header and part for part, in the same order, with the same
deliveries, editions and archive; and an early stop still builds, stores and archives
every edition."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_digest_job import ARTICLES, NOW, seed, smtp_toml
from test_digest_parallel import MORE, READERS, SENDER, WATCHLISTS, patient_claims  # noqa: F401

from pipeline.digest import job as digest_job
from pipeline.digest import parallel
from pipeline.settings import Settings, load_settings
from pipeline.store import Store


@pytest.fixture(autouse=True)
def one_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every data folder signs links with the same secret (the mails are compared)."""
    monkeypatch.setenv("TW_TEST_DIGEST_SECRET", "s" * 40)


def settings_in(directory: Path, port: int) -> Settings:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "trendwatch.toml"
    text = 'data_dir = "data"\n' + SENDER.replace(
        'from = "Trendwatch <digest@trendwatch.test>"\n', ""
    )
    path.write_text(text + smtp_toml(port) + WATCHLISTS + READERS, encoding="utf-8")
    return load_settings(path)


def normalised(raw: bytes) -> tuple[str, bytes]:
    """(recipient, the message with its Date and MIME boundary made fixed)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    raw = raw.replace(str(msg.get_boundary()).encode(), b"BOUNDARY")
    return str(msg["To"]), re.sub(rb"^Date: .*$", b"Date: X", raw, flags=re.M)


def run(
    settings: Settings,
    recorder: Any,
    overlap: bool,
    stop_after: int | None,
) -> tuple[Any, list[Any], list[tuple[str, bytes]], dict[str, bytes]]:
    before = len(recorder.received)
    asked = 0

    def stop() -> bool:
        nonlocal asked
        asked += 1
        return stop_after is not None and asked > stop_after

    with Store(settings.database) as store:
        report = digest_job.digest(settings, store, now=NOW, stop=stop, overlap=overlap)
        rows = [
            (r.edition_id, r.subscriber, r.status, r.transport, r.attempts, r.message_id)
            for r in store.deliveries()
        ]
        editions = [(r.key, r.data) for r in store.editions()]
    mails = [normalised(m.content) for m in recorder.received[before:]]
    archive = settings.data_dir / "archive"
    files = {str(p.relative_to(archive)): p.read_bytes() for p in archive.rglob("*") if p.is_file()}
    return report, [rows, editions], mails, files


@pytest.mark.parametrize("stop_after", [None, 4])
def test_overlapped_sending_equals_building_first(
    tmp_path: Path,
    smtpd: tuple[Any, int],
    monkeypatch: pytest.MonkeyPatch,
    patient_claims: None,  # noqa: F811
    stop_after: int | None,
) -> None:
    recorder, port = smtpd
    first, overlapped = settings_in(tmp_path / "first", port), settings_in(tmp_path / "over", port)
    with Store(first.database) as store:
        seed(first, store, ARTICLES + MORE)
    overlapped.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(first.db_path, overlapped.db_path)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)  # the second process builds some
    one, rows_one, mails_one, files_one = run(first, recorder, False, stop_after)
    two, rows_two, mails_two, files_two = run(overlapped, recorder, True, stop_after)
    assert two.phases.cpu["editions (2nd process)"] > 0  # what it reported when it ended
    assert two.built == one.built and len(two.built) == 7  # every edition, stopped or not
    assert two.sent == one.sent and len(two.sent) == (9 if stop_after is None else 4)
    assert two.stopped == one.stopped == (stop_after is not None)
    assert rows_two == rows_one
    assert mails_two == mails_one and len(mails_one) == len(one.sent)
    assert files_two == files_one and len(files_one) > 7
