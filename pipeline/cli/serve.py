"""``trendwatch serve``: the web application (:mod:`web`) on uvicorn, until SIGTERM.

``trendwatch run`` serves the same application in a child process when ``[web] listen``
is set (:mod:`pipeline.cli.web_child`). This module imports neither :mod:`web` nor
uvicorn at the top (nor the crawling stack): ``--help`` and the other commands start
without them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from pipeline.cli.common import Context, Exit, console, run_body
from pipeline.cli.i18n import t
from pipeline.cli.logs import LEVELS, configure_logging
from pipeline.settings import DEFAULT_LISTEN, Settings

if TYPE_CHECKING:
    import uvicorn

PARENT_POLL = 1.0  # seconds between looks whether `run` still runs


@click.command()
@click.option(
    "--host", default=None, help="Address to listen on (default: [web] listen, else 127.0.0.1)."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on (default: [web] listen, else 8080).",
)
@click.option("--access-log", is_flag=True, help="Log every request (off by default).")
@click.option(
    "--log-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Append the log to this file, as run does (default: standard error).",
)
@click.option(
    "--log-level",
    type=click.Choice(LEVELS, case_sensitive=False),
    default=None,
    help="Log events of this level and above (default: info).",
)
@click.option("--parent", type=int, default=None, hidden=True, help="Stop when this process ends.")
@click.pass_obj
def serve(
    obj: Context,
    host: str | None,
    port: int | None,
    access_log: bool,
    log_file: Path | None,
    log_level: str | None,
    parent: int | None,
) -> None:
    """Serve the web pages: the archive, search, stories, watchlists, subscribing and the
    admin pages. Put it behind a reverse proxy with TLS (see the README). Stop with
    SIGTERM or Ctrl-C; the config is read again whenever its file changes."""

    def body() -> int:
        settings = obj.settings()
        listen = settings.web.listen or DEFAULT_LISTEN
        plain_log = log_file is not None or log_level is not None
        if plain_log:  # run's format (and file); uvicorn's loggers go through it too
            configure_logging(log_file, log_level or "info")
        return serve_app(
            settings, host or listen.host, port or listen.port, access_log, parent, plain_log
        )

    run_body(body)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(Exit.OK)


def serve_app(
    settings: Settings,
    host: str,
    port: int,
    access_log: bool = False,
    parent: int | None = None,
    plain_log: bool = False,
) -> int:
    """Run the application on uvicorn until SIGTERM/SIGINT (or until the process
    ``parent`` is no longer this one's parent); the exit status. ``plain_log``: the
    logging is configured already (uvicorn's loggers go to it)."""
    import uvicorn

    from web.app import create_app

    app = create_app(settings.path)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for
    # the handler it found: this one, so a stop by signal is a clean exit (status 0)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    shown = f"[{host}]" if ":" in host else host
    console.print(
        t("serve.serving", title=settings.digest_title, host=shown, port=port, path=settings.path)
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=False,  # web.security.client_address does this, with [web] trusted_proxies
        server_header=False,
        access_log=access_log,
        log_level="info",
        log_config=None if plain_log else uvicorn.config.LOGGING_CONFIG,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(server, parent), daemon=True).start()
    server.run()
    return Exit.OK if server.started else Exit.FAILURE


def _watch_parent(server: uvicorn.Server, parent: int) -> None:
    """Stop ``server`` when ``parent`` ends (even killed: then this process is adopted)."""
    while os.getppid() == parent and not server.should_exit:
        time.sleep(PARENT_POLL)
    server.should_exit = True
