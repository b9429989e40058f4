"""The secret that signs each reader's unsubscribe and manage links, and the recipient
those links are made for."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from email.utils import parseaddr
from pathlib import Path

from digests.fsutil import make_private_dir
from digests.model import Recipient
from digests.tokens import MIN_SECRET_BYTES, with_links
from pipeline.settings import ConfigError, ConfigProblem, Settings, Subscriber


def recipient(settings: Settings, sub: Subscriber, secret: bytes | None = None) -> Recipient:
    """``sub`` as a digest's recipient, with manage and unsubscribe links signed for
    its token version; ``secret``: the :func:`token_secret` the caller read (once for
    many readers), else it is read now."""
    reader = Recipient(sub.email, sub.name, sub.language, tuple(sub.watchlists))
    return with_links(
        reader,
        secret=token_secret(settings) if secret is None else secret,
        base_url=settings.base_url,
        unsubscribe_mailto=settings.unsubscribe_mailto or _address(settings.sender),
        version=sub.token_version,
    )


def _address(mailbox: str) -> str:
    return parseaddr(mailbox)[1] or mailbox


def token_secret(settings: Settings) -> bytes:
    """The secret that signs unsubscribe and manage links: from the environment
    variable ``secret_env`` names, else a random one kept in the data folder."""
    if settings.secret_env:
        value = os.environ.get(settings.secret_env, "")
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                [
                    ConfigProblem(
                        str(settings.path),
                        "secret_env",
                        f"environment variable {settings.secret_env} must hold a secret of"
                        f" at least {MIN_SECRET_BYTES} bytes ({MIN_SECRET_BYTES} ASCII characters)",
                    )
                ]
            )
        return value.encode()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        _create_secret(path)
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        problem = f"cannot read the link secret: {exc.strerror or exc}"
    else:
        if len(secret) >= MIN_SECRET_BYTES:
            return secret
        problem = f"the link secret is {len(secret)} bytes; it needs at least {MIN_SECRET_BYTES}"
    # bad local configuration (exit 2): the links signed with it cannot be made
    raise ConfigError(
        [
            ConfigProblem(
                str(path),
                "",
                f"{problem}. Delete the file to have a new one made (links in mails already"
                f" sent stop working), or set secret_env in {settings.path} to the name of an"
                f" environment variable holding a secret of at least {MIN_SECRET_BYTES}"
                " characters.",
            )
        ]
    )


def _create_secret(path: Path) -> None:
    """Write a new random secret to ``path`` (0600), whole or not at all: it is written
    under a temporary name and linked into place, so two processes starting at once
    (``run`` and ``serve``) never see a half-written file, and the second keeps the
    first one's secret."""
    make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: use theirs
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
