"""Fixtures of the demo tests: one run of ``trendwatch demo`` as a child process,
shared by the tests that read its mails and archive pages."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests_support import REPO


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder of a finished ``trendwatch demo`` run."""
    cwd = tmp_path_factory.mktemp("demo-run")
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("TRENDWATCH_CONFIG", None)
    run = subprocess.run(
        [sys.executable, "-m", "pipeline", "demo", "demo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return cwd / "demo" / "data"


@pytest.fixture(scope="session")
def demo_mails(demo_data: Path) -> dict[str, EmailMessage]:
    """The demo's digest mails by the reader's address."""
    mails = {}
    for path in sorted((demo_data / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        mails[msg["To"].addresses[0].addr_spec] = msg
    return mails
