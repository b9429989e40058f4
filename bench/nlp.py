"""Benchmark of the process stage: language, spaCy, 50 watchlists, dedup, clustering.

Generates ``--articles`` articles (default 20,000; about 400 words each, half Dutch, half
English, written from our own word lists by a seeded RNG): a few hundred "events", each
with its own names, places and numbers, reported by several sources, plus syndicated
copies (about 5 %). They are written oldest first, their sources taking turns (as a
crawl delivers news; ``--by-source`` writes them source by source instead, the clusterer's
slowest case), and imported through ``jsonl.import_jsonl``, which keeps the file's order,
into a fresh SQLite file and pushed through ``process_job.process`` (the job the CLI
and the scheduler call) with 50 watchlists in the config, on a fixed clock (``NOW``, the
day after the newest article: the run ends with the trends of the last five weeks,
whatever today is). Printed per run:

* end-to-end throughput of ``process`` (articles/s), with ``[nlp] n_process``;
* what it decided: the number of stories (the stories that hold articles once every
  merge, split and regrouping is applied: no story row is left without articles),
  duplicates and matches, and a digest of every article's story and canonical copy,
  the stories' rows and the matches (:func:`outcome`), which a change that must keep
  the results must not move;
* the clustering cost per article in the first and the last tenth of the articles
  (it must not grow with the number of stored articles);
* bare spaCy tokenisation throughput on the same texts (``nlp.tokenizer.pipe`` on a
  blank pipeline, one process) as the ceiling, measured in a child process right after
  each run, and the ratio of each run to its own ceiling (on a shared machine the load
  changes from minute to minute: a ceiling taken after all the runs may not have seen
  the load any of them saw);
* the CPU time per article in this process (the sequential half: dedup, clustering,
  storing) and in the worker processes with their fork server (the analysis), which
  says which half bounds the throughput;
* peak resident memory of this process and of its worker processes (sampled, with the
  CPU times, by a child process so the sampling takes no turns in the measured one).

Run from the repository root::

    python bench/nlp.py                      # 20,000 articles, 3 runs
    python bench/nlp.py --articles 2000 --runs 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.process import job as process_job
from pipeline.settings import load_settings
from pipeline.store import Store

NL_WORDS = (
    "werkgever werknemer medewerker organisatie afdeling team leidinggevende manager"
    " salaris loon cao vakbond overleg personeel vacature sollicitatie thuiswerken kantoor"
    " verzuim burn-out werkdruk gezondheid pensioen scholing opleiding talent flexibel"
    " contract ontslag reorganisatie groei omzet kosten investering klant markt sector"
    " zorg onderwijs bouw industrie logistiek overheid gemeente provincie regio onderzoek"
).split()
EN_WORDS = (
    "employer employee staff organisation department team manager leader salary wage"
    " union agreement talks workforce vacancy applicant remote office absence burnout"
    " workload health pension training education talent flexible contract layoff"
    " restructuring growth revenue costs investment customer market sector care schools"
    " construction industry logistics government council region research survey"
).split()
NL_GLUE = "de het een van in op met voor dat is zijn wordt naar bij om ook niet maar en".split()
EN_GLUE = "the a of in on with for that is are was to at also not but and by from".split()
SYLLABLES = "ka lo mi ne ro sa te vi du ber gen hof dam wijk stad ton ley ford ham ville".split()
ORG_SUFFIX = ("Groep", "Holding", "Partners", "Zorg", "Logistics", "Bank", "Tech")
START = datetime(2026, 10, 1, tzinfo=UTC)  # the first article; the last is 56 days later
# the run's clock: the day after the newest article, whatever today is, so every run
# updates the same five weeks of trends (2026-W44 to W48), as a first run after an
# import of the last two months would
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    """Pseudo-words, so the texts have a realistic number of distinct word forms (the
    tokenizer and the lemma caches must not get an easy ride on a tiny word list)."""
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _zipf_pick(rng: random.Random, words: list[str]) -> str:
    # rank ~ 1/u: a few frequent words, a long tail of rare ones, as in real text
    rank = int(len(words) ** rng.random()) - 1
    return words[rank]


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _event(rng: random.Random) -> dict:
    return {
        "org": f"{_name(rng, 3)} {rng.choice(ORG_SUFFIX)}",
        "person": f"{_name(rng)} {_name(rng, 3)}",
        "place": _name(rng, 3),
        "numbers": [str(rng.randint(11, 9999)) for _ in range(3)],
        "topic_nl": rng.sample(NL_WORDS, 6),
        "topic_en": rng.sample(EN_WORDS, 6),
    }


def _sentence(rng: random.Random, lang: str, event: dict, tail: list[str]) -> str:
    words, glue = (NL_WORDS, NL_GLUE) if lang == "nl" else (EN_WORDS, EN_GLUE)
    topic = event["topic_nl"] if lang == "nl" else event["topic_en"]
    out = []
    for _ in range(rng.randint(12, 20)):
        roll = rng.random()
        if roll < 0.35:
            out.append(rng.choice(glue))
        elif roll < 0.6:
            out.append(rng.choice(topic))
        elif roll < 0.66:
            out.append(rng.choice((event["org"], event["person"], event["place"])))
        elif roll < 0.69:
            out.append(rng.choice(event["numbers"]))
        elif roll < 0.8:
            out.append(rng.choice(words))
        else:
            out.append(_zipf_pick(rng, tail))
    return out[0].capitalize() + " " + " ".join(out[1:]) + "."


def generate(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    tails = {"nl": _vocabulary(rng, 20_000), "en": _vocabulary(rng, 20_000)}
    events = [_event(rng) for _ in range(max(10, count // 25))]
    start = START
    span = timedelta(days=56)
    articles: list[dict] = []
    for i in range(count):
        if articles and rng.random() < 0.05:  # a syndicated copy of a recent article
            original = articles[-rng.randint(1, min(20, len(articles)))]
            copy = dict(original, id=str(i), source=f"syndicate{i % 7}")
            copy["title"] = "Ook: " + original["title"]
            articles.append(copy)
            continue
        k = min(len(events) - 1, int(i / count * len(events)) + rng.randint(-3, 3))
        event = events[max(0, k)]
        lang = "nl" if i % 2 == 0 else "en"
        words = 0
        sentences = []
        while words < 400:
            sentence = _sentence(rng, lang, event, tails[lang])
            sentences.append(sentence)
            words += sentence.count(" ") + 1
        when = start + span * (i / count) + timedelta(minutes=rng.randint(0, 600))
        articles.append(
            {
                "id": str(i),
                "title": sentences[0][:90],
                "text": " ".join(sentences[1:]),
                "url": f"https://news{i % 40}.example/{lang}/{i}",
                "published": when.isoformat(),
                "source": f"source{i % 40}",
            }
        )
    return articles


def write_config(directory: Path, watchlists: int = 50) -> Path:
    rng = random.Random(3)
    lines = ['data_dir = "data"', "[nlp]", "n_process = {n_process}"]
    for w in range(watchlists):
        nl, en = rng.sample(NL_WORDS, 2), rng.sample(EN_WORDS, 2)
        query = f'{nl[0]} {nl[1]} OR {en[0]} -"{en[1]} {rng.choice(EN_WORDS)}"'
        lines += [
            "[[watchlists]]",
            f'name = "w{w}"',
            f'title = "W{w}"',
            f"query = {json.dumps(query)}",
        ]
    path = directory / "trendwatch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tokenizer_ceiling(articles: list[dict]) -> float:
    import spacy

    start = time.perf_counter()
    for lang in ("nl", "en"):
        nlp = spacy.blank(lang)
        texts = [f"{a['title']}\n\n{a['text']}" for a in articles[lang == "en" :: 2]]
        for _ in nlp.tokenizer.pipe(texts, batch_size=256):
            pass
    return len(articles) / (time.perf_counter() - start)


def ceiling_in_child(source: Path) -> float:
    """:func:`tokenizer_ceiling` on the articles of ``source``, in a child process: the
    articles and spaCy's tokenizers stay out of the memory measured in this one."""
    done = subprocess.run(
        [sys.executable, __file__, "--ceiling-of", str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.split()[-1])


class TreeMemory:
    """Samples the resident memory of this process and all its descendants (the
    forkserver and its worker processes are not our direct children, so getrusage
    cannot see them) and keeps the peak of the total; and the CPU time each descendant
    used, as last seen before it ended.

    The sampling runs in a child process (``--sample-tree PID``, :func:`sample_tree`),
    not in a thread of this one: a thread here would take turns with the measured code
    for the interpreter lock, and reading a process's ``smaps_rollup`` costs CPU in the
    process that reads it. The child ends when its stdin closes and prints what it saw.
    """

    def __init__(self, every: float = 0.2, pss_every: float = 1.0) -> None:
        self.every = every
        self.pss_every = pss_every
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self.peak_main_mb = 0.0
        self.pss_readings = 0
        self.others_cpu = 0.0  # seconds of CPU of every descendant but the sampler
        self._child: subprocess.Popen[str] | None = None

    def __enter__(self) -> TreeMemory:
        command = [sys.executable, __file__, "--sample-tree", str(os.getpid())]
        command += ["--every", str(self.every), "--pss-every", str(self.pss_every)]
        self._child = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._child is not None
        out, _ = self._child.communicate()  # closes its stdin: the child reports and ends
        seen = json.loads(out)
        self.peak_mb = seen["peak_mb"]
        self.peak_pss_mb = seen["peak_pss_mb"]
        self.peak_main_mb = seen["peak_main_mb"]
        self.pss_readings = seen["pss_readings"]
        self.others_cpu = seen["others_cpu"]


def sample_tree(root: int, every: float, pss_every: float) -> dict:
    """What :class:`TreeMemory` reports, sampled until this process's stdin closes.

    RSS is read every ``every`` seconds (a counter in ``/proc/PID/status``: cheap). PSS
    needs ``smaps_rollup``, for which the kernel walks the process's page tables: 10 to
    20 ms of CPU for a 350 MB worker. PSS is therefore read once every ``pss_every``
    seconds, and in between whenever the tree's RSS grew 2 % beyond the most it had at
    any PSS reading: between two readings, the tree's RSS never grew by more than those
    2 % (or for more than ``pss_every``), and PSS grows with it."""
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    me = os.getpid()
    peak_mb = peak_pss_mb = peak_main_mb = 0.0
    readings = 0
    cpu: dict[int, float] = {}
    last_pss = float("-inf")
    rss_at_pss = 0.0  # the most RSS seen at a PSS reading
    while True:
        pids = [p for p in _tree(root) if p != me]
        rss = tree_rss_mb(pids)
        peak_main_mb = max(peak_main_mb, tree_rss_mb([root]))
        peak_mb = max(peak_mb, rss)
        for pid in pids:
            if pid != root and (used := cpu_seconds(pid)) is not None:
                cpu[pid] = used
        now = time.monotonic()
        stopping = stop.is_set()
        if stopping or now - last_pss >= pss_every or rss > rss_at_pss * 1.02:
            peak_pss_mb = max(peak_pss_mb, tree_pss_mb(pids))
            readings += 1
            rss_at_pss = max(rss_at_pss, rss)
            last_pss = now
        if stopping:
            return {
                "peak_mb": peak_mb,
                "peak_pss_mb": peak_pss_mb,
                "peak_main_mb": peak_main_mb,
                "pss_readings": readings,
                "others_cpu": sum(cpu.values()),
            }
        stop.wait(every)


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of ``pid`` so far, from ``/proc/PID/stat``."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is first
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(pids: list[int]) -> float:
    """Resident memory of ``pids`` summed (a page shared by several processes is counted
    once per process)."""
    total = 0
    for pid in pids:
        try:
            status = (Path("/proc") / str(pid) / "status").read_text()
        except OSError:
            continue
        if "VmRSS:" in status:
            total += int(status.split("VmRSS:")[1].split()[0])
    return total / 1024


def tree_pss_mb(pids: list[int]) -> float:
    """Proportional memory of ``pids`` summed: a page shared by several processes is
    divided among them.

    Only the tree's own processes are read: the kernel walks a process's page tables to
    write its ``smaps_rollup`` (reading every process on a busy machine took about 20 ms
    of CPU a sample)."""
    total = 0
    for pid in pids:
        try:
            rollup = (Path("/proc") / str(pid) / "smaps_rollup").read_text()
        except OSError:
            continue
        pss = (int(x.split()[1]) for x in rollup.splitlines() if x.startswith("Pss:"))
        total += next(pss, 0)
    return total / 1024


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from the kernel's per-thread lists of children."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            tasks = list((Path("/proc") / str(pid) / "task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                todo.extend(int(child) for child in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def outcome(db_path: Path) -> str:
    """A short digest of what the stage decided: every article's story and canonical
    copy, the open stories (label, representative, span, size) and every watchlist
    match with its explanation. Two runs print the same digest only when all of it is
    the same (the counts alone would miss articles that changed stories)."""
    digest = hashlib.sha256()
    with sqlite3.connect(db_path) as db:
        for query in (
            "SELECT id, story_id, duplicate_of FROM articles ORDER BY id",
            "SELECT id, label, representative_id, first_seen, last_seen, size FROM stories"
            " ORDER BY id",
            "SELECT article_id, watchlist, terms, location, snippet FROM matches"
            " ORDER BY article_id, watchlist",
        ):
            for row in db.execute(query):
                digest.update(repr(row).encode())
    return digest.hexdigest()[:12]


def one_run(source: Path, n_process: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config = write_config(directory)
        config.write_text(config.read_text().replace("{n_process}", str(n_process)))
        settings = load_settings(config)
        # the import runs as its own command, so this process holds only what
        # `trendwatch process` holds when the memory is sampled
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline",
                "--config",
                str(config),
                "import",
                "--jsonl",
                str(source),
            ],
            check=True,
            capture_output=True,
        )
        with Store(settings.db_path) as store:
            batches: list[tuple[int, float]] = []
            last = [time.perf_counter()]

            def tick(n: int) -> None:
                now = time.perf_counter()
                batches.append((n, now - last[0]))
                last[0] = now

            with TreeMemory() as memory:
                start, cpu = time.perf_counter(), time.process_time()
                report = process_job.process(settings, store, now=NOW, on_batch=tick)
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            stories = store.story_count()
        decided = outcome(settings.db_path)
        tenth = max(1, len(batches) // 10)
        first = sum(t for _, t in batches[:tenth]) / sum(n for n, _ in batches[:tenth])
        final = sum(t for _, t in batches[-tenth:]) / sum(n for n, _ in batches[-tenth:])
    return {
        "rate": report.articles / seconds,
        "seconds": seconds,
        "first_ms": first * 1000,
        "last_ms": final * 1000,
        "duplicates": report.duplicates,
        "stories": stories,
        "matches": report.matches,
        "outcome": decided,
        "tree_mb": memory.peak_mb,
        "tree_pss_mb": memory.peak_pss_mb,
        "main_mb": memory.peak_main_mb,
        "main_cpu_ms": cpu / report.articles * 1000,
        "others_cpu_ms": memory.others_cpu / report.articles * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--n-process", type=int, default=2)
    parser.add_argument(
        "--by-source",
        action="store_true",
        help="write the file source by source (an archive of several feeds concatenated"
        " per feed) instead of oldest first: the clusterer then sees the calendar once per"
        " source, its slowest case",
    )
    parser.add_argument("--ceiling-of", type=Path, help=argparse.SUPPRESS)  # see ceiling_in_child
    parser.add_argument("--sample-tree", type=int, help=argparse.SUPPRESS)  # see TreeMemory
    parser.add_argument("--every", type=float, default=0.2, help=argparse.SUPPRESS)
    parser.add_argument("--pss-every", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sample_tree:
        print(json.dumps(sample_tree(args.sample_tree, args.every, args.pss_every)))
        return 0
    if args.ceiling_of:
        lines = args.ceiling_of.read_text("utf-8").splitlines()
        print(tokenizer_ceiling([json.loads(line) for line in lines]))
        return 0
    articles = generate(args.articles)
    words = statistics.mean(a["text"].count(" ") + 1 for a in articles[:500])
    order = "source by source" if args.by_source else "oldest first"
    print(
        f"{len(articles)} articles, about {words:.0f} words each, {order};"
        f" n_process={args.n_process}"
    )
    work = Path(tempfile.mkdtemp(prefix="twnlp-"))
    source = work / "articles.jsonl"
    if args.by_source:
        articles.sort(key=lambda a: a["source"])  # stable: each source's in time order
    source.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    del articles  # the generator's data is not part of what is measured
    runs = []
    for number in range(1, args.runs + 1):
        result = one_run(source, args.n_process)
        result["ceiling"] = ceiling_in_child(source)
        runs.append(result)
        print(
            f"run {number}: {result['rate']:.0f} articles/s ({result['seconds']:.1f} s),"
            f" per article {result['first_ms']:.2f} ms in the first tenth,"
            f" {result['last_ms']:.2f} ms in the last; {result['stories']} stories,"
            f" {result['duplicates']} duplicates, {result['matches']} matches"
            f" (outcome {result['outcome']});"
            f" CPU per article {result['main_cpu_ms']:.2f} ms in this process,"
            f" {result['others_cpu_ms']:.2f} ms in the workers and their fork server;"
            f" peak {result['tree_pss_mb']:.0f} MB PSS; bare tokenisation right after:"
            f" {result['ceiling']:.0f} articles/s, ratio {result['rate'] / result['ceiling']:.2f};"
            f" load average {os.getloadavg()[0]:.1f}"
        )
    shutil.rmtree(work)
    ceiling = statistics.median(r["ceiling"] for r in runs)
    ratio = statistics.median(r["rate"] / r["ceiling"] for r in runs)
    rate = statistics.median(r["rate"] for r in runs)
    tree = statistics.median(r["tree_mb"] for r in runs)
    pss = statistics.median(r["tree_pss_mb"] for r in runs)
    own = statistics.median(r["main_mb"] for r in runs)
    print(f"median process throughput : {rate:.0f} articles/s")
    print(
        f"median CPU per article    : {statistics.median(r['main_cpu_ms'] for r in runs):.2f} ms"
        f" in the main process (dedup, clustering, storing),"
        f" {statistics.median(r['others_cpu_ms'] for r in runs):.2f} ms in the workers"
        " (analysis) and their fork server"
    )
    print(
        f"median cost per article   : {statistics.median(r['first_ms'] for r in runs):.2f} ms"
        f" (first tenth) vs {statistics.median(r['last_ms'] for r in runs):.2f} ms (last tenth)"
    )
    print(
        f"bare spaCy tokenisation   : {ceiling:.0f} articles/s (1 process);"
        f" ratio {ratio:.2f} (median of the runs' ratios to their own ceilings;"
        f" of the medians: {rate / ceiling:.2f})"
    )
    print(
        f"peak memory (median)      : {own:.0f} MB main process (RSS);"
        f" {tree:.0f} MB main process and workers together (RSS, shared pages counted"
        f" in every process), {pss:.0f} MB proportional (PSS)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
