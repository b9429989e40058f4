"""Backups of a PostgreSQL database with ``pg_dump`` (``trendwatch backup``): a
custom-format dump, 0600, under the same names as SQLite's backups
(``trendwatch-YYYYMMDD-HHMMSS.dump``).

``pg_dump`` comes from Debian's ``postgresql-client`` (or the server's own package). It
must be of the server's major version or newer: an older one refuses to dump a newer
server, so that is checked first and said plainly (:func:`dump_tool_problem`, pure).
The password never appears on a command line or in a message: ``pg_dump`` gets the URL
without it and the password in ``PGPASSWORD``, in its environment only
(:func:`libpq_target`, pure). Like SQLite's backup, the dump is written under a
temporary name beside the target, checked (``pg_restore --list`` reads its whole table
of contents) and only then renamed, so a file with the final name is always complete.
``pg_dump`` reads one snapshot: the dump holds everything committed when it started,
while ``run`` and workers go on writing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from digests.fsutil import fsync_dir, make_private_dir
from pipeline.store.connection import StoreBase, StoreError
from pipeline.store.dialect import POSTGRESQL

DUMP_SUFFIX = ".dump"
DUMP_TIMEOUT = 6 * 3600.0  # seconds; only against a hang
VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class DumpToolMissing(StoreError):
    """``pg_dump`` or ``pg_restore`` is missing, or too old for the server."""


@dataclass(frozen=True)
class LibpqTarget:
    """What ``pg_dump`` gets: the URL without a password, and the environment that
    carries the password (empty when the URL has none)."""

    url: str
    env: dict[str, str]


def libpq_target(url: str) -> LibpqTarget:
    """``url`` (``postgresql://user:pw@host/db?sslmode=require``) for libpq's tools: the
    password out of the URL (also a ``password=`` parameter) and into ``PGPASSWORD``."""
    parts = urlsplit(url)
    scheme = "postgresql"
    password = unquote(parts.password) if parts.password is not None else None
    netloc = parts.netloc.rpartition("@")
    host = netloc[2]
    user = ""
    if netloc[1]:
        user = netloc[0].partition(":")[0]
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "password":
            password = value
        else:
            query.append((key, value))
    location = f"{user}@{host}" if user else host
    clean = urlunsplit((scheme, location, parts.path, urlencode(query), ""))
    return LibpqTarget(clean, {"PGPASSWORD": password} if password else {})


def tool_major(version_text: str) -> int | None:
    """The major version in ``pg_dump --version``'s answer (``pg_dump (PostgreSQL)
    15.18 (Debian 15.18-0+deb12u1)`` gives 15; ``9.6.24`` gives 9), else None."""
    found = VERSION.search(version_text)
    return int(found.group(1)) if found else None


def server_major(version_num: int) -> int:
    """The major version of ``SHOW server_version_num`` (150018 gives 15; 90624, of
    9.6, gives 9 as pg_dump's ``9.6.24`` does in :func:`tool_major`)."""
    return version_num // 10000


def dump_tool_problem(tool: str, version_text: str | None, server: int) -> str | None:
    """Why ``tool`` (``pg_dump`` found with ``version_text``, None: not found) cannot
    dump a server of major version ``server``; None when it can."""
    install = (
        f"install {tool} of version {server} or newer (Debian: apt-get install"
        " postgresql-client, or the PGDG package of that version)"
    )
    if version_text is None:
        return f"{tool} is not installed (not on PATH); {install}"
    major = tool_major(version_text)
    if major is None:
        return f"cannot tell the version of {tool} ({version_text.strip()!r}); {install}"
    if major < server:
        return (
            f"{tool} is version {major}, older than the PostgreSQL server ({server}), and"
            f" cannot dump it; {install}"
        )
    return None


def _tool_version(name: str) -> tuple[str | None, str | None]:
    """(path, ``--version`` text) of the tool ``name`` on PATH; (None, None) without it."""
    path = shutil.which(name)
    if path is None:
        return None, None
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None, None
    return path, done.stdout or done.stderr


class DumpMixin(StoreBase):
    """``pg_dump`` backups of a PostgreSQL store."""

    def server_major_version(self) -> int:
        """The PostgreSQL server's major version (PostgreSQL only)."""
        return server_major(int(self._x("SHOW server_version_num").fetchone()[0]))

    def dump_to(self, target: str | Path) -> Path:
        """A custom-format dump of this PostgreSQL database at ``target`` (0600,
        replaced only when the new dump is complete and readable); the path.
        DumpToolMissing when pg_dump or pg_restore is missing or too old."""
        if self.dialect is not POSTGRESQL:
            raise StoreError("pg_dump backs up PostgreSQL; SQLite has Store.backup")
        server = self.server_major_version()
        tools = {}
        for name in ("pg_dump", "pg_restore"):
            path, version = _tool_version(name)
            problem = dump_tool_problem(name, version, server)
            if problem is not None or path is None:
                raise DumpToolMissing(problem or f"{name} is not installed")
            tools[name] = path
        target = Path(target)
        make_private_dir(target.parent)
        libpq = libpq_target(str(self.database))
        env = {**os.environ, **libpq.env}
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)  # mkstemp made it 0600; pg_dump writes into it and keeps that mode
        try:
            dumped = subprocess.run(
                [
                    tools["pg_dump"],
                    "--format=custom",
                    "--no-password",
                    f"--file={name}",
                    f"--dbname={libpq.url}",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=DUMP_TIMEOUT,
                check=False,
            )
            if dumped.returncode != 0:
                raise StoreError(f"pg_dump failed: {_safe(dumped.stderr, libpq)}")
            listed = subprocess.run(
                [tools["pg_restore"], "--list", name],
                capture_output=True,
                text=True,
                timeout=DUMP_TIMEOUT,
                check=False,
            )
            if listed.returncode != 0 or "TABLE DATA" not in listed.stdout:
                raise StoreError(f"the dump does not read back: {listed.stderr.strip()[:300]}")
            os.chmod(name, 0o600)
            os.replace(name, target)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        fsync_dir(target.parent)
        return target


def _safe(text: str, libpq: LibpqTarget) -> str:
    """A tool's error text, its last lines, without the password should it be there."""
    text = "\n".join(text.strip().splitlines()[-5:])
    for password in libpq.env.values():
        text = text.replace(password, "***")
    return text
