"""Which database the store uses: ``database_url`` in the config, or
``$TRENDWATCH_DATABASE_URL`` (which wins when set).

Absent, the store is today's SQLite file under ``data_dir`` (``trendwatch.db``);
``sqlite:///PATH`` names another SQLite file (relative to the config's folder, or
absolute with four slashes); ``postgresql://[user[:password]@]host[:port]/database``
is a shared PostgreSQL. A URL that holds a password is a secret: :func:`shown_url`
masks it wherever a URL is shown (problems, status, logs), and a config file holding
one must be readable by its owner only (:func:`exposed_password_problem`).

Pure: the checks take values and return them cleaned, or raise
:class:`~pipeline.settings.checks.Invalid`; the loader does the reading.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from pipeline.settings.checks import Invalid, describe, quote

DATABASE_URL_ENV = "TRENDWATCH_DATABASE_URL"
EXPECTED = (
    "a database URL such as 'sqlite:///data/trendwatch.db' or"
    " 'postgresql://trendwatch@db.example.org/trendwatch'"
)
_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}


def shown_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``: safe to print or log."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return re.sub(r"//([^/@:]*):[^/@]*@", r"//\1:***@", url)
    if not password:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def has_password(url: str | None) -> bool:
    """Whether ``url`` carries a password (a secret, then)."""
    if not url:
        return False
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return True  # unparsable: treat as secret


def database_url(value: object) -> str:
    """A ``sqlite:///PATH`` or ``postgresql://...`` URL, stripped; ``postgres://`` is
    taken as ``postgresql://``. The problem never repeats a password."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"expected {EXPECTED}, got {_described(value)}")
    url = value.strip()
    shown = quote(shown_url(url))
    if re.search(r"\s", url):
        raise Invalid(f"expected {EXPECTED} without blanks, got {shown}")
    scheme, sep, rest = url.partition("://")
    kind = _SCHEMES.get(scheme.lower()) if sep else None
    if kind is None:
        raise Invalid(f"expected {EXPECTED} (scheme sqlite or postgresql), got {shown}")
    if kind == "sqlite":
        if not rest.startswith("/") or not rest.lstrip("/"):
            raise Invalid(
                f"expected 'sqlite:///' and a file path (three slashes, four for an"
                f" absolute path), got {shown}"
            )
        return f"sqlite://{rest}"
    try:
        parts = urlsplit(f"postgresql://{rest}")
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise Invalid(f"expected {EXPECTED}, got {shown} (a bad host or port)") from None
    if not parts.hostname or not unquote(parts.path.lstrip("/")):
        raise Invalid(
            f"expected 'postgresql://' with a host and a database name such as"
            f" 'postgresql://trendwatch@db.example.org/trendwatch', got {shown}"
        )
    return f"postgresql://{rest}"


def is_postgresql(url: str | None) -> bool:
    """Whether ``url`` (checked by :func:`database_url`) names PostgreSQL."""
    return bool(url) and str(url).startswith("postgresql://")


def sqlite_path(url: str) -> str:
    """The file of a checked ``sqlite:///PATH`` URL: ``PATH`` (relative) or ``/PATH``."""
    return url.removeprefix("sqlite:///")


def exposed_password_problem(url: str | None, mode: int) -> str | None:
    """Why a config file of permission bits ``mode`` must not hold ``url``: it has a
    password and others than the owner may read the file. None when it is fine."""
    if not has_password(url) or not mode & 0o077:
        return None
    return (
        f"holds a password, but the file is readable by others than its owner (mode"
        f" {mode & 0o777:04o}); make it private (chmod 600) or give the URL in"
        f" ${DATABASE_URL_ENV} instead"
    )


def _described(value: object) -> str:
    return quote(shown_url(value)) if isinstance(value, str) else describe(value)
