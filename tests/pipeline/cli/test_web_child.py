"""How ``trendwatch run`` paces restarts of its web process (pure), and the command it
starts (the log where run's goes)."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.cli.web_child import FIRST_PAUSE, MAX_PAUSE, STEADY, next_pause, web_command


def test_a_child_that_keeps_dying_waits_twice_as_long_each_time_up_to_a_minute() -> None:
    pauses = [FIRST_PAUSE]
    for _ in range(10):
        pauses.append(next_pause(pauses[-1], ran_for=0.5))
    assert pauses[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(pauses) == MAX_PAUSE == pauses[-1]


def test_a_child_that_ran_steadily_starts_the_pauses_afresh() -> None:
    assert next_pause(MAX_PAUSE, ran_for=STEADY) == FIRST_PAUSE
    assert next_pause(MAX_PAUSE, ran_for=STEADY - 1) == MAX_PAUSE


def test_the_web_process_logs_where_run_logs(tmp_path: Path) -> None:
    config = tmp_path / "trendwatch.toml"
    plain = web_command(config)
    assert plain[:5] == [sys.executable, "-m", "pipeline", "--config", str(config)]
    assert plain[5] == "serve" and "--log-file" not in plain
    assert plain[plain.index("--log-level") + 1] == "info"
    to_file = web_command(config, tmp_path / "run.log", "warning")
    assert to_file[to_file.index("--log-file") + 1] == str(tmp_path / "run.log")
    assert to_file[to_file.index("--log-level") + 1] == "warning"
