"""``trendwatch serve``: the web application (:mod:`web`) on uvicorn, until SIGTERM.

Also :func:`web_process`: ``trendwatch run`` serves the same application in a child
process (``python -m pipeline --config <file> serve``) when ``[web] listen`` is set,
and stops it when it stops. This module imports neither :mod:`web` nor uvicorn at the
top (nor the crawling stack): ``--help`` and the other commands start without them.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from pipeline.cli.common import Context, Exit, console, run_body
from pipeline.settings import DEFAULT_LISTEN, Settings

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("trendwatch.run")

STOP_WAIT = 10.0  # seconds the web process gets to finish after SIGTERM
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
@click.option("--parent", type=int, default=None, hidden=True, help="Stop when this process ends.")
@click.pass_obj
def serve(
    obj: Context, host: str | None, port: int | None, access_log: bool, parent: int | None
) -> None:
    """Serve the web pages: the archive, search, stories, watchlists, subscribing and the
    admin pages. Put it behind a reverse proxy with TLS (see the README). Stop with
    SIGTERM or Ctrl-C; the config is read again whenever its file changes."""

    def body() -> int:
        settings = obj.settings()
        listen = settings.web.listen or DEFAULT_LISTEN
        return serve_app(settings, host or listen.host, port or listen.port, access_log, parent)

    run_body(body)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(Exit.OK)


def serve_app(
    settings: Settings, host: str, port: int, access_log: bool = False, parent: int | None = None
) -> int:
    """Run the application on uvicorn until SIGTERM/SIGINT (or until the process
    ``parent`` is no longer this one's parent); the exit status."""
    import uvicorn

    from web.app import create_app

    app = create_app(settings.path)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for
    # the handler it found: this one, so a stop by signal is a clean exit (status 0)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"Serving {settings.digest_title} on http://{shown}:{port}/ ({settings.path})")
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=False,  # web.security.client_address does this, with [web] trusted_proxies
        server_header=False,
        access_log=access_log,
        log_level="info",
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


# --- the web process of `trendwatch run` ----------------------------------------------


def web_command(config: Path) -> list[str]:
    """The command ``run`` starts: this Python, this trendwatch, the same config."""
    return [
        *(sys.executable, "-m", "pipeline", "--config", str(config)),
        *("serve", "--parent", str(os.getpid())),
    ]


@contextmanager
def web_process(settings: Settings) -> Iterator[subprocess.Popen[bytes] | None]:
    """While in the block, ``trendwatch serve`` runs in a child process when
    ``[web] listen`` is set (None otherwise); on leaving, the child gets SIGTERM and
    :data:`STOP_WAIT` seconds, then SIGKILL. Its output goes where run's goes."""
    if settings.web.listen is None:
        yield None
        return
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, path) if p)}
    child = subprocess.Popen(web_command(settings.path), env=env, stdin=subprocess.DEVNULL)
    log.info("web: serving on %s (pid %d)", settings.web.listen, child.pid)
    try:
        yield child
    finally:
        stop_process(child)


def stop_process(child: subprocess.Popen[bytes]) -> int:
    """SIGTERM, :data:`STOP_WAIT` seconds, then SIGKILL; the child's exit status."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            log.warning("web: did not stop within %.0f s; killed", STOP_WAIT)
            child.kill()
            child.wait()
    if child.returncode not in (0, -signal.SIGTERM):
        log.warning("web: exited with status %s", child.returncode)
    else:
        log.info("web: stopped")
    return child.returncode
