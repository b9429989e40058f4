"""A corpus for the process queue's tests: eight events, each reported by several
sources in Dutch and English (near-copies among them, so there are duplicates and
stories of several articles), and a few articles of their own; with a config whose
watchlists match some of them."""

from __future__ import annotations

import json
from pathlib import Path

EVENTS = [
    ("Jumbo", "Veghel", 300, "banen", "jobs", "supermarktketen", "supermarket chain"),
    ("Philips", "Eindhoven", 1200, "banen", "jobs", "technologiebedrijf", "technology company"),
    ("ASML", "Veldhoven", 450, "vacatures", "vacancies", "chipmachinemaker", "chip machine maker"),
    ("KLM", "Schiphol", 80, "vluchten", "flights", "luchtvaartmaatschappij", "airline"),
    ("Tata Steel", "IJmuiden", 900, "banen", "jobs", "staalbedrijf", "steel maker"),
    ("Heineken", "Zoeterwoude", 150, "banen", "jobs", "brouwer", "brewer"),
    ("NS", "Utrecht", 60, "treinen", "trains", "spoorvervoerder", "rail operator"),
    ("Rabobank", "Utrecht", 700, "banen", "jobs", "bank", "bank"),
]
SOURCES = ["NOS", "NU", "Regio", "Wire", "Dagblad"]
CONFIG = """data_dir = "data"
[[watchlists]]
name = "banen"
title = "Banen"
query = "banen OR jobs"

[[watchlists]]
name = "vervoer"
title = "Vervoer"
query = "vluchten OR treinen OR flights OR trains"
"""


def _event_articles(n: int) -> list[dict]:
    who, where, count, what_nl, what_en, kind_nl, kind_en = EVENTS[n]
    day = f"2026-11-{20 + n % 5:02d}"
    nl = (
        f"{kind_nl.capitalize()} {who} schrapt {count} {what_nl} in {where}, meldt het"
        f" bedrijf woensdag. De ondernemingsraad van {who} is geschrokken van het besluit."
        f" Vakbond FNV wil snel overleg met de directie over de {count} {what_nl}."
    )
    copy = nl.replace("woensdag", "op woensdag").replace("snel overleg", "zo snel mogelijk overleg")
    en = (
        f"Dutch {kind_en} {who} will cut {count} {what_en} in {where}, the company said on"
        f" Wednesday. The works council of {who} is shocked. The FNV union wants talks"
        f" with the board about the {count} {what_en}."
    )
    follow = (
        f"Na het nieuws over {count} {what_nl} bij {who} in {where} reageert de"
        f" burgemeester van {where}: de gemeente wil met {who} en FNV praten over de"
        " gevolgen voor de regio en de werknemers."
    )
    return [
        {"title": f"{who} schrapt {count} {what_nl} in {where}", "text": nl, "lang": "nl",
         "published": f"{day}T09:00:00Z", "source": SOURCES[0]},
        {"title": f"{who} schrapt {count} {what_nl} in {where}", "text": copy, "lang": "nl",
         "published": f"{day}T09:30:00Z", "source": SOURCES[(n % 3) + 1]},
        {"title": f"{who} to cut {count} {what_en} in {where}", "text": en, "lang": "en",
         "published": f"{day}T11:00:00Z", "source": SOURCES[3]},
        {"title": f"Burgemeester {where} reageert op besluit {who}", "text": follow,
         "lang": "nl", "published": f"{day}T15:00:00Z", "source": SOURCES[2]},
    ]  # fmt: skip


def _own(n: int) -> dict:
    topics = ["het weer", "de file", "een concert", "de markt", "een museum", "de haven"]
    topic = topics[n % len(topics)]
    return {
        "title": f"Bericht {n} over {topic}",
        "text": f"Een kort bericht nummer {n} over {topic} in de stad, zonder verder nieuws"
        f" van belang. Bewoners praten over {topic} en over de week die komt.",
        "lang": "nl",
        "published": f"2026-11-2{n % 5}T1{n % 10}:00:00Z",
        "source": SOURCES[4],
    }


def articles() -> list[dict]:
    """The corpus, interleaved (events and lone articles mixed) with ids and URLs."""
    out: list[dict] = []
    per_event = [_event_articles(n) for n in range(len(EVENTS))]
    for i in range(4):
        for n, event in enumerate(per_event):
            out.append(event[i])
            if i == 1 and n % 2:
                out.append(_own(n))
    return [{**a, "id": f"a{i}", "url": f"https://news.example/{i}"} for i, a in enumerate(out)]


def write(folder: Path) -> None:
    """The corpus as ``in.jsonl`` and the config as ``trendwatch.toml`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trendwatch.toml").write_text(CONFIG, encoding="utf-8")
    lines = "".join(json.dumps(a) + "\n" for a in articles())
    (folder / "in.jsonl").write_text(lines, encoding="utf-8")
