"""Benchmark of the digest stage: personalised rendering and SMTP delivery.

The store: ``--articles`` generated articles (default 20,000; bench/nlp.py's generator:
half Dutch, half English, about 400 words each, dated over eight weeks) imported with
``jsonl.import_jsonl`` and analysed and matched by ``process_job.process`` against bench/nlp.py's
50 watchlists, so the digest is built from real stored, processed data (stories,
matches with their reasons, trends). That preparation runs once, in a child process (so
its memory does not count below), and takes a few minutes for 20,000 articles; with
``--workdir`` it is kept and reused by later invocations.

The config has ``--subscribers`` subscribers (default 10,000) spread round-robin over
``--audiences`` distinct (language, watchlists) combinations (default 100, one to four
watchlists each), a ``base_url`` (so every mail carries signed manage and unsubscribe
links) and a sender. The editions of the week ending ``NOW`` are built once by the real
job (``digest_job.digest(..., dry_run=True)``), then, per run:

* **render**: for every subscriber, the personalised message exactly as the digest job
  builds it for SMTP: the recipient with its signed links (``digests.tokens.with_links``,
  via the job's own helper), ``digests.render.render_edition`` (HTML with CSS inlined,
  plain text) and the message's bytes on the wire (``digests.wire``: MIME, headers,
  List-Unsubscribe; ``digests.mail.build_message`` where those cannot be made that
  way). Digests/s.
* **send**: ``--send`` (default 1,000) of those messages through
  ``digests.deliver.SmtpTransport`` (one connection for the batch, as the job uses it)
  to an SMTP server on 127.0.0.1: by default the lean sink of ``bench/smtp_servers.py``
  (a real SMTP dialogue that parses no more than it must), with ``--server aiosmtpd``
  aiosmtpd as the tests use it. The server runs in a child process, so on two cores
  client and server each get one and do not share a GIL; it counts what it received,
  and the count is checked. Messages/s: the server's ceiling for the job, measured in
  the same run (with the server's own CPU time).
* **end to end** (``--e2e``, default 1,000 subscribers; 0 skips it): ``digest_job.digest`` on
  a fresh copy of the processed store with that many subscribers and ``[smtp]`` pointing
  at the same server: builds the editions from the stored articles, writes the archive
  pages and index, records and sends every delivery. Messages/s. With two or more
  cores the job builds its editions in two processes (``pipeline.digest.parallel``):
  the CPU of its second process is printed beside this process's.

With ``--profile FILE`` the first end-to-end run is profiled (cProfile; the stats are
written to FILE and the 25 heaviest functions by cumulative time printed), e.g.::

    python bench/digest.py --subscribers 1000 --runs 1 --profile /tmp/digest.prof

Printed: each run's figures (end to end also the CPU time the job took in this process:
on a shared machine it varies less than the wall time; and the job's own split of its
wall and CPU time into phases: building the editions, storing them, the archive pages
and index, and per message rendering, the message bytes, the deliveries table and the
SMTP exchange), the medians over ``--runs`` and the peak RSS of this process
(rendering and sending only; the preparation ran in a child) and of the server.

Run from the repository root::

    python bench/digest.py                                # 20,000 articles, 3 runs
    python bench/digest.py --articles 2000 --subscribers 1000 --runs 1   # quick check
    python bench/digest.py --workdir /tmp/tw-bench        # keep the store for next time

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on sys.path and "pipeline" would import
# bench/pipeline.py. Put the repository root there instead.
_BENCH_DIR = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _BENCH_DIR:
    sys.path[0] = str(_BENCH_DIR.parent)

from bench.nlp import generate  # noqa: E402
from bench.nlp import write_config as write_watchlists  # noqa: E402
from bench.smtp_servers import HOST, Server  # noqa: E402
from digests.deliver import SmtpTransport  # noqa: E402
from digests.mail import build_message, make_message_id  # noqa: E402
from digests.model import Edition, Recipient  # noqa: E402
from digests.render import render_edition  # noqa: E402
from digests.wire import WireMessage, wire_edition  # noqa: E402
from pipeline import jsonl  # noqa: E402
from pipeline.digest import job as digest_job  # noqa: E402
from pipeline.digest import secret as digest_secret  # noqa: E402
from pipeline.digest.editions import audiences, period_ending  # noqa: E402
from pipeline.digest.frozen import edition_from_json  # noqa: E402
from pipeline.process import job as process_job  # noqa: E402
from pipeline.settings import Settings, load_settings  # noqa: E402
from pipeline.store import Store  # noqa: E402

NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # the generated articles end on 26 Nov
SENDER = "Trendwatch <digest@bench.example.org>"
WATCHLISTS = 50  # bench/nlp.py's config
SNAPSHOT = "processed.db"  # the store after import + process, before any digest


# --- the store ----------------------------------------------------------------------


def config_text(
    directory: Path,
    subscribers: int,
    audience_count: int,
    *,
    port: int | None = None,
    n_process: int = 2,
) -> str:
    """bench/nlp.py's watchlists, plus sender, base_url, subscribers and maybe SMTP."""
    directory.mkdir(parents=True, exist_ok=True)
    watchlists = write_watchlists(directory, WATCHLISTS).read_text(encoding="utf-8")
    head, nlp, rest = watchlists.partition("[nlp]")  # top-level keys stay before [nlp]
    lines = [
        head.rstrip(),
        'base_url = "https://digest.bench.example.org"',
        'digest_title = "Trendwatch Werk en Leven"',
    ]
    if port is None:
        lines.append(f"from = {json.dumps(SENDER)}")
    lines.append((nlp + rest).replace("{n_process}", str(n_process)).rstrip())
    if port is not None:
        lines += ["[smtp]", f'host = "{HOST}"', f"port = {port}", f"from = {json.dumps(SENDER)}"]
    rng = random.Random(11)
    combos: list[tuple[str, tuple[str, ...]]] = []
    while len(combos) < audience_count:
        lang = "nl" if len(combos) % 2 == 0 else "en"
        names = sorted(rng.sample(range(WATCHLISTS), rng.randint(1, 4)))
        combo = (lang, tuple(f"w{n}" for n in names))
        if combo not in combos:
            combos.append(combo)
    for i in range(subscribers):
        lang, names = combos[i % len(combos)]
        lines += [
            "[[subscribers]]",
            f'email = "reader{i}@{lang}.bench.example.org"',
            f'name = "Reader {i}"',
            f'language = "{lang}"',
            f"watchlists = {json.dumps(list(names))}",
        ]
    return "\n".join(lines) + "\n"


def write_config(directory: Path, text: str) -> Settings:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "trendwatch.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def prepare_store(workdir: str, articles: int) -> None:
    """(In a child process.) Import and process the articles; save a snapshot."""
    directory = Path(workdir) / "prepare"
    settings = write_config(directory, config_text(directory, 0, 1))
    source = directory / "articles.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for article in generate(articles):
            out.write(json.dumps(article) + "\n")
    started = time.perf_counter()
    with Store(settings.db_path) as store:
        imported = jsonl.import_jsonl(store, source)
        processed = process_job.process(settings, store, now=NOW)
    seconds = time.perf_counter() - started
    shutil.copyfile(settings.db_path, Path(workdir) / SNAPSHOT)  # closed: WAL checkpointed
    info = {
        "articles": imported.articles,
        "matches": processed.matches,
        "stories": processed.new_stories,
        "seconds": seconds,
    }
    (Path(workdir) / "prepared.json").write_text(json.dumps(info), encoding="utf-8")


def ensure_store(workdir: Path, articles: int) -> dict[str, Any]:
    marker = workdir / "prepared.json"
    if marker.exists() and (workdir / SNAPSHOT).exists():
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info["articles"] == articles:
            info["reused"] = True
            return info
    # not a Pool: process_job.process starts worker processes, which a daemon may not
    process = multiprocessing.get_context("spawn").Process(
        target=prepare_store, args=(str(workdir), articles)
    )
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"preparing the store failed (exit {process.exitcode})")
    info = json.loads(marker.read_text(encoding="utf-8"))
    info["reused"] = False
    return info


def fresh_copy(workdir: Path, name: str, text_for) -> Settings:
    """A data folder with a copy of the processed store and the config ``text_for``."""
    directory = workdir / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    settings = write_config(directory, text_for(directory))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workdir / SNAPSHOT, settings.db_path)
    return settings


# --- rendering and sending -----------------------------------------------------------


def _recipient(settings: Settings, sub: Any) -> Recipient:
    """The recipient with its links, exactly as the digest job makes it."""
    return digest_secret.recipient(settings, sub)


def stored_editions(settings: Settings, store: Store) -> list[tuple[Edition, tuple[str, ...]]]:
    """This week's editions (built by the job) with the subscribers of each."""
    period = period_ending(NOW, settings.schedule.timezone)
    out = []
    for audience in audiences(settings.subscribers):
        row = store.edition(period.key(audience.slug))
        assert row is not None, f"edition {audience.slug} was not built"
        out.append((edition_from_json(row.data), audience.emails))
    return out


@dataclass
class RenderRun:
    seconds: float = 0.0
    count: int = 0
    parts: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("links", "render", "build"), 0.0)
    )
    kept: list[tuple[str, EmailMessage | WireMessage]] = field(default_factory=list)


def render_all(
    settings: Settings, editions: list[tuple[Edition, tuple[str, ...]]], keep: int
) -> RenderRun:
    """Render and build every subscriber's message as the job does (serialising is
    left to the transport, as in the job); keep ``keep`` of them, spread over all
    audiences, for sending. Also times the three steps of each message."""
    subscribers = {s.email: s for s in settings.subscribers}
    template_dir = getattr(settings, "template_dir", None)
    domain = settings.sender.rsplit("@", 1)[-1].strip("> ")
    stride = max(1, len(subscribers) // max(1, keep))
    run = RenderRun()
    clock = time.perf_counter
    started = clock()
    for edition, emails in editions:
        for email in emails:
            t0 = clock()
            recipient = _recipient(settings, subscribers[email])
            t1 = clock()
            rendered = render_edition(
                edition, recipient, sender=settings.sender, template_dir=template_dir
            )
            t2 = clock()
            key = f"{edition.key}/{email}"
            message_id = make_message_id(key, domain)
            msg: EmailMessage | WireMessage | None = wire_edition(edition, settings.sender).message(
                recipient, rendered, message_id=message_id
            )
            if msg is None:  # as the job: the message object where the bytes cannot be made
                msg = build_message(
                    edition, recipient, rendered, sender=settings.sender, message_id=message_id
                )
            t3 = clock()
            run.parts["links"] += t1 - t0
            run.parts["render"] += t2 - t1
            run.parts["build"] += t3 - t2
            if run.count % stride == 0 and len(run.kept) < keep:
                run.kept.append((key, msg))
            run.count += 1
    run.seconds = clock() - started
    return run


def _size(msg: EmailMessage | WireMessage) -> int:
    return len(msg.data) if isinstance(msg, WireMessage) else len(msg.as_bytes())


def send_all(
    messages: list[tuple[str, EmailMessage | WireMessage]], port: int
) -> tuple[float, int]:
    started = time.perf_counter()
    with SmtpTransport(HOST, port, timeout=60) as transport:
        for key, msg in messages:
            transport.send(msg, key)
        connections = transport.connections
    return time.perf_counter() - started, connections


def end_to_end(
    workdir: Path, args: argparse.Namespace, port: int, profile: Path | None = None
) -> dict[str, Any]:
    settings = fresh_copy(
        workdir,
        "e2e",
        lambda d: config_text(d, args.e2e, args.audiences, port=port),
    )
    profiler = cProfile.Profile() if profile is not None else None
    with Store(settings.db_path) as store:
        children = _children_cpu()
        started, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        report = digest_job.digest(settings, store, now=NOW)
        if profiler is not None:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        children = _children_cpu() - children
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    assert report.ok, report.failed[:3]
    return {
        "seconds": seconds,
        "cpu": cpu,
        "helper_cpu": children,
        "editions": len(report.built),
        "sent": len(report.sent),
        "empty": len(getattr(report, "empty", [])),
        "phases": getattr(report, "phases", None),
    }


def _children_cpu() -> float:
    """CPU seconds of this process's ended children (the job's second process; the
    SMTP server still runs and is not counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- main ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--audiences", type=int, default=100)
    parser.add_argument("--send", type=int, default=1_000)
    parser.add_argument("--e2e", type=int, default=1_000, help="subscribers; 0: skip")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the store here")
    parser.add_argument(
        "--profile", type=Path, help="cProfile the first end-to-end run; stats to this file"
    )
    parser.add_argument(
        "--server",
        choices=("sink", "aiosmtpd"),
        default="sink",
        help="the SMTP server: the lean sink (bench/smtp_servers.py) or aiosmtpd",
    )
    args = parser.parse_args(argv)
    logging_quiet()

    temporary = None
    if args.workdir is None:
        temporary = tempfile.TemporaryDirectory(prefix="tw-bench-digest-")
        workdir = Path(temporary.name)
    else:
        workdir = args.workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        info = ensure_store(workdir, args.articles)
        how = "reused" if info["reused"] else f"prepared in {info['seconds']:.0f} s"
        print(
            f"store: {info['articles']} articles, {info['matches']} watchlist matches,"
            f" {info['stories']} stories ({how}, not timed below)"
        )
        settings = fresh_copy(
            workdir,
            "render",
            lambda d: config_text(d, args.subscribers, args.audiences),
        )
        with Store(settings.db_path) as store:
            started = time.perf_counter()
            built = digest_job.digest(settings, store, now=NOW, dry_run=True)
            build_seconds = time.perf_counter() - started
            editions = stored_editions(settings, store)
        items = [e.item_count for e, _ in editions]
        print(
            f"{len(settings.subscribers)} subscribers in {len(editions)} audiences;"
            f" {len(built.built)} editions built by the job in {build_seconds:.1f} s"
            f" (items per edition: median {statistics.median(items):.0f},"
            f" min {min(items)}, max {max(items)})"
        )
        renders: list[float] = []
        parts: list[dict[str, float]] = []
        sends: list[float] = []
        e2es: list[float] = []
        cpus: list[float] = []
        helper_cpus: list[float] = []
        phase_cpus: list[dict[str, float]] = []
        with Server(args.server) as server:
            name = (
                "aiosmtpd" if args.server == "aiosmtpd" else "the lean sink (bench/smtp_servers.py)"
            )
            print(f"SMTP server: {name} on {HOST}:{server.port} in a child process")
            for number in range(1, args.runs + 1):
                run = render_all(settings, editions, args.send)
                seconds, count, kept = run.seconds, run.count, run.kept
                renders.append(count / seconds)
                parts.append({k: v / count * 1000 for k, v in run.parts.items()})
                size = statistics.median(_size(m) for _, m in kept) / 1024
                before, _, _, server_cpu = server.count()
                send_seconds, connections = send_all(kept, server.port)
                arrived, _, _, server_cpu_after = server.count()
                arrived -= before
                assert arrived == len(kept), f"server got {arrived} of {len(kept)}"
                sends.append(len(kept) / send_seconds)
                line = (
                    f"run {number}: rendered {count} digests in {seconds:.1f} s"
                    f" = {renders[-1]:.0f}/s (median message {size:.0f} KB); sent {len(kept)}"
                    f" in {send_seconds:.2f} s = {sends[-1]:.0f}/s over {connections} connection(s)"
                    f" (server CPU {server_cpu_after - server_cpu:.2f} s)"
                )
                if args.e2e:
                    before, _, _, server_cpu = server.count()
                    profile = args.profile if number == 1 else None
                    e2e = end_to_end(workdir, args, server.port, profile)
                    arrived, _, _, server_cpu_after = server.count()
                    arrived -= before
                    assert arrived == e2e["sent"], f"server got {arrived} of {e2e['sent']}"
                    e2es.append(e2e["sent"] / e2e["seconds"])
                    line += (
                        f"; digest_job.digest end to end: {e2e['editions']} editions built,"
                        f" {e2e['sent']} sent ({e2e['empty']} empty, not sent)"
                        f" in {e2e['seconds']:.1f} s = {e2es[-1]:.0f} messages/s"
                        f" ({e2e['cpu']:.1f} s CPU in this process,"
                        f" {e2e['helper_cpu']:.1f} s in its 2nd process,"
                        f" {server_cpu_after - server_cpu:.1f} s in the server)"
                    )
                    cpus.append(e2e["cpu"])
                    helper_cpus.append(e2e["helper_cpu"])
                    if e2e["phases"] is not None:
                        line += f"\n  phases: {e2e['phases'].summary()}"
                        phase_cpus.append(e2e["phases"].cpu)
                print(line)
                del kept
            server_rss = server.count()[2]
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"median render      : {statistics.median(renders):.0f} digests/s (target 200)")
        print(
            "  per digest, median: "
            + ", ".join(
                f"{name} {statistics.median(p[name] for p in parts):.2f} ms"
                for name in ("links", "render", "build")
            )
            + " (with_links, render_edition, the message's bytes)"
        )
        print(
            f"median send        : {statistics.median(sends):.0f} messages/s (pre-built messages"
            " over one connection: the server's ceiling for the job)"
        )
        if e2es:
            print(
                f"median end to end  : {statistics.median(e2es):.0f} messages/s (the digest job;"
                f" target 200), {statistics.median(cpus):.1f} s CPU in this process,"
                f" {statistics.median(helper_cpus):.1f} s in the job's 2nd process"
            )
        if phase_cpus:
            names = list(dict.fromkeys(name for p in phase_cpus for name in p))
            print(
                "  CPU per phase     : "
                + ", ".join(
                    f"{name} {statistics.median(p.get(name, 0.0) for p in phase_cpus):.1f} s"
                    for name in names
                )
                + " (medians)"
            )
        print(f"peak RSS           : {own:.0f} MB this process, {server_rss:.0f} MB SMTP server")
    finally:
        if temporary is not None:
            temporary.cleanup()
    return 0


def logging_quiet() -> None:
    """The jobs log every delivery at INFO; keep the benchmark's output readable."""
    import logging

    logging.getLogger("trendwatch").setLevel(logging.WARNING)
    logging.getLogger("mail.log").setLevel(logging.WARNING)


if __name__ == "__main__":
    raise SystemExit(main())
