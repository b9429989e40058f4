"""Outbox transport and atomic file writes."""

from __future__ import annotations

import email
import email.policy
import os
from pathlib import Path

import pytest

from digests import fsutil
from digests.deliver import OutboxTransport
from digests.mail import build_message, make_message_id
from digests.model import Edition, Recipient
from digests.render import render_edition


def message(edition: Edition, recipient: Recipient, key: str):
    rendered = render_edition(edition, recipient)
    return build_message(
        edition,
        recipient,
        rendered,
        sender="digest@trends.example.nl",
        message_id=make_message_id(key, "trends.example.nl"),
    )


def test_outbox_writes_parseable_eml(
    edition: Edition, recipient: Recipient, tmp_path: Path
) -> None:
    key = f"{edition.key}/{recipient.email}"
    outbox = tmp_path / "outbox"
    with OutboxTransport(outbox) as transport:
        assert not transport.already_delivered(key)
        path = transport.send(message(edition, recipient, key), key)
        assert transport.already_delivered(key)
    assert path.parent == outbox
    assert path.suffix == ".eml"
    assert sorted(p.name for p in outbox.iterdir()) == [path.name]  # no temp files left
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["To"].addresses[0].addr_spec == recipient.email
    assert parsed["Message-ID"] == make_message_id(key, "trends.example.nl")
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_outbox_names_are_deterministic_and_safe(
    edition: Edition, recipient: Recipient, tmp_path: Path
) -> None:
    transport = OutboxTransport(tmp_path)
    keys = ["2026-W48/nl-x/anne@example.nl", "2026-W48_nl-x_anne@example.nl", "../../etc/passwd"]
    paths = [transport.path_for(k) for k in keys]
    assert paths == [OutboxTransport(tmp_path).path_for(k) for k in keys]
    assert len(set(paths)) == 3  # keys that slug alike still differ
    for path in paths:
        assert path.parent == tmp_path
        assert not path.name.startswith(".")
        assert path.name.endswith(".eml")
    written = transport.send(message(edition, recipient, keys[2]), keys[2])
    assert written == paths[2]
    assert written.exists()
    # a retried send replaces the file in place
    assert transport.send(message(edition, recipient, keys[2]), keys[2]) == written
    assert len(list(tmp_path.iterdir())) == 1


def test_atomic_write_keeps_old_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a" / "b" / "page.html"
    fsutil.atomic_write_text(target, "old ✓")
    assert target.read_text(encoding="utf-8") == "old ✓"

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(fsutil.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk on fire"):
        fsutil.atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old ✓"
    assert [p.name for p in target.parent.iterdir()] == ["page.html"]
    fsutil.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
