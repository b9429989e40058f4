"""Helpers for the subscription tests: a config with watchlists and a config subscriber,
the form filled in through Starlette's TestClient, the mails in the outbox or at the
SMTP server, the links in them, a monotonic clock for the rate limits, articles seeded
straight into the store (so a digest has something to send), a real ``trendwatch
serve``, a mail client's one-click POST, and the CLI run a week later."""

from __future__ import annotations

import email
import email.policy
import http.client
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from httpx import Response
from starlette.applications import Starlette
from starlette.testclient import TestClient

from crawlers.entries import Entry
from pipeline.settings import Settings
from pipeline.store import Store
from tests_support import CLOCK_OFFSET_ENV, child_env, clock_offset, with_clock_offset_dir
from web.ratelimit import RateLimiter
from web.routes.subscribe import SubscribeLimits
from web_support import REMOTE, SECRET_ENV, Clock, app_for

BASE_URL = "https://digest.example.org"
CONFIG_READER = "lezer@example.org"

CONFIG = """
data_dir = "data"
digest_title = "Trendwatch Werk"
secret_env = "{secret_env}"
base_url = "{base_url}"
{top}
[schedule]
timezone = "Europe/Amsterdam"
digest = "mon 07:00"

[[watchlists]]
name = "thuiswerken"
title = "Thuiswerken"
query = "thuiswerken"

[[watchlists]]
name = "banen"
title = "Banen"
query = "banen"

[[subscribers]]
email = "{reader}"
name = "Lezer"
language = "nl"
watchlists = ["thuiswerken"]
{subscriber}
[[sources]]
name = "HR Nieuws"
url = "https://hrnieuws.test.invalid/feed.xml"
language = "nl"
{rest}
"""


def subscribe_config(
    folder: Path,
    *,
    base_url: str | None = BASE_URL,
    smtp_port: int | None = None,
    top: str = "",
    subscriber: str = "",
    rest: str = "",
) -> Path:
    """trendwatch.toml in ``folder``: two watchlists, one config subscriber, one source;
    mail to the outbox, or to 127.0.0.1:``smtp_port``."""
    if smtp_port is not None:
        rest += (
            f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\n'
            'from = "Trendwatch <digest@trendwatch.test>"\ntimeout = 5\n'
        )
    text = CONFIG.format(
        secret_env=SECRET_ENV,
        base_url=base_url or "",
        top=top,
        reader=CONFIG_READER,
        subscriber=subscriber,
        rest=rest,
    )
    if base_url is None:
        text = text.replace('base_url = ""\n', "")
    path = folder / "trendwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Ticks:
    """A monotonic clock the test moves (for the rate limiters)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def app_with_limits(config: Path, clock: Clock | None = None, ticks: Ticks | None = None) -> Any:
    """The application, its subscribe limits on ``ticks`` (default limits)."""
    app: Starlette = app_for(config, clock)
    ticks = ticks or Ticks()
    app.state.subscribe_limits = SubscribeLimits(
        per_address=RateLimiter(3, 3600, clock=ticks),
        per_client=RateLimiter(10, 3600, clock=ticks),
    )
    return app


def web_client(app: Starlette, *, peer: tuple[str, int] = REMOTE) -> TestClient:
    """A client of the site at BASE_URL (https: the session cookie is Secure)."""
    return TestClient(app, base_url=BASE_URL, client=peer, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


def form(email_address: str, **fields: Any) -> dict[str, Any]:
    """The subscribe form filled in: Dutch, thuiswerken, Friday, consent given."""
    return {
        "email": email_address,
        "name": "Anne",
        "language": "nl",
        "watchlists": ["thuiswerken"],
        "weekday": "4",
        "consent": "yes",
        **fields,
    }


def subscribe(web: TestClient, email_address: str, **fields: Any) -> Response:
    """GET the form, POST it filled in (with the session's CSRF token)."""
    page = web.get("/subscribe")
    assert page.status_code == 200
    return web.post(
        "/subscribe", data={"csrf": csrf_of(page.text), **form(email_address, **fields)}
    )


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def outbox(config: Path) -> list[EmailMessage]:
    """The messages in the outbox, oldest first."""
    folder = config.parent / "data" / "outbox"
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [parse(p.read_bytes()) for p in files]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def link_in(message: EmailMessage, kind: str) -> str:
    """The ``/<kind>/<token>`` link in a mail's text, as a URL."""
    found = re.search(rf"https?://\S+/{kind}/[A-Za-z0-9._-]+", text_of(message))
    assert found, text_of(message)
    return found[0]


def path_of(link: str) -> str:
    return urlsplit(link).path


def confirm(web: TestClient, link: str) -> Response:
    """Open a confirmation link and press its button."""
    page = web.get(path_of(link))
    assert page.status_code == 200, page.text
    return web.post(path_of(link), data={"csrf": csrf_of(page.text)})


def seed(settings: Settings, when: datetime, *titles: str, start: int = 1) -> None:
    """Articles about thuiswerken, published a day before ``when`` and matched, as if
    crawled and processed at ``when``."""
    with Store(settings.database) as store:
        store.sync_sources(settings.sources, when)
        store.sync_watchlists(settings.watchlists)
        source = store.sources()[0].id
        entries = [
            Entry(
                identity=f"guid:{start + n}",
                title=title,
                url=f"https://hrnieuws.test.invalid/{start + n}",
                text=f"{title}. Over thuiswerken.",
                summary=f"{title}. Over thuiswerken.",
                published=when - timedelta(days=1),
                language="nl",
            )
            for n, title in enumerate(titles)
        ]
        store.save_entries(source, entries, when)
        rows = store.articles_to_process()
        why = {"terms": ["thuiswerken"], "location": "body", "snippet": ""}
        store.save_matches(
            [(row.id, "thuiswerken", why) for row in rows],
            processed_ids=[row.id for row in rows],
            now=when,
        )


# --- a real `trendwatch serve`, mail clients, the CLI a week later --------------------


class ServeProcess:
    """``trendwatch --config CONFIG serve --port PORT`` as a child process."""

    def __init__(self, config: Path, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.errors = config.parent / "serve.stderr"
        command = [sys.executable, "-m", "pipeline", "--config", str(config)]
        with self.errors.open("w") as err:
            self.child = subprocess.Popen(
                [*command, "serve", "--port", str(port)],
                env=child_env(NO_COLOR="1"),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def start(self) -> ServeProcess:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/", timeout=5):
                    return self
            except OSError:
                if self.child.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(self.errors.read_text("utf-8")) from None
                time.sleep(0.05)

    def stop(self) -> int:
        self.child.send_signal(signal.SIGTERM)
        return self.child.wait(timeout=30)

    def kill(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()


def one_click(url: str, server: str) -> http.client.HTTPResponse:
    """What a mail client does with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
    (RFC 8058): a POST of that body to the URL, without cookies, not following
    redirects. It goes to ``server`` (``http://127.0.0.1:PORT``) with the URL's Host,
    as the reverse proxy that ends TLS in front of ``trendwatch serve`` passes it."""
    target, local = urlsplit(url), urlsplit(server)
    conn = http.client.HTTPConnection(local.hostname, local.port, timeout=10)
    conn.request(
        "POST",
        target.path,
        body=b"List-Unsubscribe=One-Click",
        headers={"Host": target.netloc, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def trendwatch_later(days: float, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``trendwatch ARGS`` with its wall clock ``days`` ahead (on top of any offset the
    tests run with), through the tests' clock-offset sitecustomize."""
    env = child_env(NO_COLOR="1", COLUMNS="200")
    env.pop("TRENDWATCH_CONFIG", None)
    offset = (clock_offset() or timedelta()).total_seconds() / 86400 + days
    env[CLOCK_OFFSET_ENV] = str(offset)
    env["PYTHONPATH"] = with_clock_offset_dir(env["PYTHONPATH"])
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
