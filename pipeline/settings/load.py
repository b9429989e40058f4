"""Loading the config file: find it, read it as TOML, validate it into :class:`Settings`.

Every way the file can fail to be read (missing, a folder, too large, not UTF-8, not
TOML, nested too deeply) is a :class:`ConfigError` naming the file, never a traceback.
"""

from __future__ import annotations

import os
import stat
import sys
import tomllib
from pathlib import Path
from typing import Any

from pipeline.settings.database import DATABASE_URL_ENV
from pipeline.settings.model import ConfigError, ConfigProblem, Settings
from pipeline.settings.validate import validate_settings_data

DEFAULT_CONFIG_PATH = Path("config/trendwatch.toml")
MAX_CONFIG_BYTES = 16 * 1024 * 1024  # a larger file is refused before it is parsed


def load_settings(path: str | Path) -> Settings:
    """Read and validate the config file; raise ConfigError listing every problem."""
    config = Path(path)
    data = _read_toml(config, str(path))
    absolute = config.resolve()
    try:
        mode: int | None = stat.S_IMODE(config.stat().st_mode)
    except OSError:
        mode = None
    return validate_settings_data(
        data,
        str(path),
        absolute.parent,
        path=absolute,
        env_database_url=os.environ.get(DATABASE_URL_ENV),
        file_mode=mode,
    )


def default_config_path() -> Path:
    """``$TRENDWATCH_CONFIG`` if set, else ``config/trendwatch.toml``."""
    value = os.environ.get("TRENDWATCH_CONFIG", "").strip()
    return Path(value).expanduser() if value else DEFAULT_CONFIG_PATH


def _read_toml(path: Path, file: str) -> dict[str, Any]:
    """Parse the TOML file, turning every failure into a ConfigError."""

    def fail(message: str) -> ConfigError:
        return ConfigError([ConfigProblem(file, "", message)])

    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise fail("file not found (start from config/trendwatch.example.toml)") from None
    except IsADirectoryError:
        raise fail("is a directory, expected a TOML file") from None
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise fail(f"larger than {MAX_CONFIG_BYTES // 1024**2} MiB; expected a config file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"invalid TOML: {exc}") from None
    except ValueError:  # int() refuses a decimal number of more digits than this
        raise fail(
            f"invalid TOML: a number of more than {sys.get_int_max_str_digits()} digits"
        ) from None
    except RecursionError:
        raise fail("invalid TOML: arrays or inline tables nested too deeply") from None
