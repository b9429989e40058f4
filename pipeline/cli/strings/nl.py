"""The command line's strings in Dutch (keys: see :mod:`pipeline.cli.strings`)."""

from __future__ import annotations

STRINGS: dict[str, str] = {
    # shared
    "none": "geen",
    "weekdays": "ma di wo do vr za zo",
    "months": "jan feb mrt apr mei jun jul aug sep okt nov dec",
    # countable nouns
    "article.one": "artikel",
    "article.other": "artikelen",
    "new_article.one": "nieuw artikel",
    "new_article.other": "nieuwe artikelen",
    "attempt.one": "poging",
    "attempt.other": "pogingen",
    "digest.one": "digest",
    "digest.other": "digests",
    "feed.one": "feed",
    "feed.other": "feeds",
    "file.one": "bestand",
    "file.other": "bestanden",
    "item.one": "item",
    "item.other": "items",
    "job.one": "taak",
    "job.other": "taken",
    "match.one": "treffer",
    "match.other": "treffers",
    "near_duplicate.one": "bijna-duplicaat",
    "near_duplicate.other": "bijna-duplicaten",
    "new_story.one": "nieuw verhaal",
    "new_story.other": "nieuwe verhalen",
    "problem.one": "probleem",
    "problem.other": "problemen",
    "request.one": "aanvraag",
    "request.other": "aanvragen",
    "row.one": "rij",
    "row.other": "rijen",
    "source.one": "bron",
    "source.other": "bronnen",
    "story.one": "verhaal",
    "story.other": "verhalen",
    "subscriber.one": "abonnee",
    "subscriber.other": "abonnees",
    "watchlist.one": "onderwerp",
    "watchlist.other": "onderwerpen",
    "watchlist_match.one": "onderwerptreffer",
    "watchlist_match.other": "onderwerptreffers",
    # common: failures every command may end in
    "config.invalid": "Ongeldige configuratie",
    "db.problem": "Databaseprobleem:",
    "install.broken": "Kan een pakket dat deze opdracht nodig heeft niet laden{missing}:",
    "install.repair": (
        "De installatie is onvolledig of kapot; herstel haar met"
        " `pip install --force-reinstall trendwatch` (of `pip install .` in de bronmap)."
    ),
    # init, check, archive
    "init.exists": "{target} bestaat al; gebruik --force om het te overschrijven.",
    "init.wrote": (
        "{target} geschreven. Pas het aan en voer dan uit: trendwatch --config {target} check"
    ),
    "check.ok": "{path}: OK — {sources}, {watchlists}, {subscribers}; gegevens in {data_dir}",
    "archive.wrote": "{files} geschreven; index: {index}",
    # crawl
    "crawl.progress": "Ophalen",
    "crawl.title": "Ophalen",
    "crawl.col.source": "bron",
    "crawl.col.result": "resultaat",
    "crawl.col.entries": "items",
    "crawl.col.new": "nieuw",
    "crawl.col.updated": "bijgewerkt",
    "crawl.col.seconds": "seconden",
    "crawl.col.note": "opmerking",
    "crawl.status.ok": "ok",
    "crawl.status.not modified": "niet gewijzigd",
    "crawl.status.error": "fout",
    "crawl.moved": "{count} permanent verhuisd",
    "crawl.gone": "{count} verdwenen (410) en uitgeschakeld",
    "crawl.rate_limited": "{count} afgeremd (rate limit)",
    "crawl.summary": "{sources}, {new}, {failed} mislukt",
    "crawl.none_succeeded": "; geen enkele bron gelukt",
    "crawl.none_due": "Geen bron is aan de beurt{when}. Gebruik --all om nu elke bron op te halen.",
    "crawl.next_due": "; de volgende is aan de beurt op {when} ({timezone})",
    "crawl.unknown": "Geen bron met de naam {names}; ingesteld: {known}",
    # process
    "process.progress": "Verwerken",
    "process.again": "Alles opnieuw verwerken: {articles}.",
    "process.done": "{articles} verwerkt: {matches}, {duplicates}, {stories}.",
    "process.rematched": "Gewijzigde onderwerpen opnieuw gezocht: {names}",
    # demo
    "demo.served": "Demofeeds op {url}; configuratie: {config}",
    "demo.crawled": "{feeds} opgehaald: {new}, {failed} mislukt.",
    "demo.processed": "{articles} verwerkt: {matches}, {duplicates}, {stories}.",
    "demo.edition.new": "Editie {key} (nieuw)",
    "demo.edition.existing": "Editie {key} (bestaand)",
    "demo.delivered": "{digests} bezorgd{earlier}.",
    "demo.earlier": ", {count} al eerder bezorgd",
    "demo.where": "Waar je alles vindt",
    "demo.database": "  database:     {path}  ({articles})",
    "demo.outbox": "  postvak uit:  {path}  (.eml-bestanden, te openen met elk mailprogramma)",
    "demo.archive": "  archief:      {uri}",
    "demo.status": "  status:       {command}",
    "demo.browse": "Bekijk het op http://{listen}/ (Ctrl-C stopt het):",
    # digest
    "digest.cannot_preview": "Geen voorbeeld mogelijk:",
    "digest.preview": "Voorbeeld (niets vastgelegd of verzonden):",
    "digest.none_due": "Er is nu geen digest aan de beurt.",
    "digest.edition.built": "Editie {key} (gemaakt)",
    "digest.edition.existing": "Editie {key} (bestaand)",
    "digest.dry_run": "Proefrun: niets verzonden.",
    "digest.sent": "  verzonden {line}",
    "digest.skipped": "  al bezorgd {line}",
    "digest.failed_before": "  definitief mislukt {line}",
    "digest.empty": "  niets nieuws, niet verzonden {line}",
    "digest.deferred": "  wacht op een nieuwe poging {line}",
    "digest.late": "  {key} overgeslagen: langer geleden aan de beurt dan de uitlooptijd",
    "digest.busy": "  een andere trendwatch-run is al aan het bezorgen; deze verzond niets",
    "digest.failed": "mislukt",
    "digest.outbox": "Mail geschreven naar {path}",
    "digest.archive": "Archief: {path}",
    # status
    "status.sources": "Bronnen (tijden in {timezone})",
    "status.gone_hint": (
        "Een verdwenen bron wordt weer opgehaald zodra haar url in de configuratie"
        " verandert, of na `trendwatch sources enable NAAM`."
    ),
    "status.counts": "{articles}; deze week {new}, {matches} en {stories}.",
    "status.failed_analyses": (
        "Analyse mislukt voor {articles} (verwerkt zonder tags, treffers of verhaal;"
        " getoond tot ze veranderen of opnieuw verwerkt worden):"
    ),
    "status.scheduler": "Planner: {state}",
    "status.scheduler_off": "draait niet (start hem met: trendwatch run)",
    "status.next_crawl": "Volgende ophaalronde: {when}",
    "status.next_digest": "Volgende digest {edition}: {when} {timezone} ({subscribers})",
    "status.next_retry": "Volgende bezorgpoging: {when}",
    "status.edition": "Editie {key}: {items}; bezorgingen {counts}",
    "status.next_attempt": ", volgende {when}",
    "status.queue": (
        "Wachtrij {queue}: {waiting} wachtend, {running} bezig, {stalled} vastgelopen,"
        " {failed} mislukt"
    ),
    "status.queue_empty": "Wachtrij: geen taken",
    "status.no_workers": "Workers: geen (start er een met: trendwatch worker)",
    "status.workers": "Workers: {count}",
    "status.never": "nooit",
    "status.seconds_ago": "{seconds} s geleden",
    "status.worker": "  worker {id}: laatste hartslag {when}, {jobs}",
    "status.worker_alive": " (laat, maar zijn proces houdt zijn levenslock vast: het leeft)",
    "status.subscribers": (
        "Abonnees: {from_config} uit de configuratie, {from_web} via de website"
    ),
    "status.to_confirm": "; {requests} te bevestigen",
    "status.unsubscribed": "Afgemeld ({count}):",
    "status.gone_reader": "  {email} op {when}{note}",
    "status.still_in_config": " (staat nog in de configuratie; krijgt niets)",
    # status: the sources table (pipeline.cli.status_view)
    "sources.col.source": "bron",
    "sources.col.type": "soort",
    "sources.col.health": "staat",
    "sources.col.articles": "artikelen",
    "sources.col.errors": "fouten",
    "sources.col.last_ok": "laatst ok",
    "sources.col.last_error": "laatste fout",
    "sources.col.next_poll": "volgende",
    "sources.col.every": "elke",
    "health.ok": "ok",
    "health.warning": "waarschuwing",
    "health.failing": "faalt ({count}x)",
    "health.rate limited": "afgeremd",
    "health.never fetched": "nooit opgehaald",
    "health.disabled": "uit",
    "health.gone": "verdwenen",
    "sources.due": "nu",
    "sources.not_polled": "{reason}; wordt niet meer opgehaald",
    "sources.no_poll_before": "niet ophalen vóór {when}",
    "sources.error": "fout {when}: {error}",
    "sources.moved": "verhuisd naar {url}; zet die in de configuratie",
    "duration.units": "d u m s",
    # sources
    "sources.bad_language": "--language: verwacht een code van 2 letters zoals nl, niet {value}",
    "sources.not_added": "Niet toegevoegd: {error}",
    "sources.added_to": "Toegevoegd aan {path}:",
    "sources.more_feeds": (
        "De site biedt meer feeds; voeg er een toe met `trendwatch sources add URL`:"
    ),
    "sources.cannot_import": "Kan {path} niet importeren: {error}",
    "sources.added": "  toegevoegd {name}: {url}{categories}",
    "sources.skipped": "  overgeslagen {url}: {why}",
    "sources.warning": "  waarschuwing: {name}: {what}",
    "sources.imported": "{sources} uit {path} geïmporteerd in {config}; {skipped} overgeslagen.",
    "sources.exported": "{sources} geëxporteerd naar {path}.",
    "sources.left_out": "Weggelaten (blogs hebben geen feed om op te abonneren): {names}",
    "sources.no_such": "Geen bron met de naam {name} in {path}.",
    "sources.enabled": "Bron {name} staat aan en is aan de beurt bij de volgende ophaalronde.",
    # backup
    "backup.no_database": "Geen database op {path}; niets om te back-uppen.",
    "backup.not": "Geen back-up gemaakt: {error}",
    "backup.failed": "Back-up naar {target} mislukt: {error}",
    "backup.done": (
        "Back-up van {database} gemaakt in {file} ({size} MB, schemaversie {version},"
        " integriteitscontrole ok)."
    ),
    "backup.dumped": (
        "Back-up van {database} gemaakt in {file} ({size} MB, schemaversie {version},"
        " pg_dump custom-formaat, terug te lezen met pg_restore --list)."
    ),
    # import, export
    "jsonl.cannot_import": "Kan niet importeren",
    "jsonl.nothing": "Er is niets geïmporteerd.",
    "jsonl.read": (
        "{articles} gelezen: {new} nieuw, {updated} bijgewerkt, {unchanged} ongewijzigd"
        " (bronnen: {sources})."
    ),
    "jsonl.exported": "{articles} geëxporteerd naar {path}.",
    # migrate-db
    "migrate.bad_url": "Geen bruikbare --to-URL: {error}",
    "migrate.not_postgres": "--to moet een PostgreSQL-database noemen, niet {url}.",
    "migrate.already": (
        "De configuratie gebruikt al PostgreSQL (database_url of $TRENDWATCH_DATABASE_URL);"
        " migrate-db verhuist een SQLite-database."
    ),
    "migrate.no_database": "Geen database op {path}; niets om te verhuizen.",
    "migrate.not_moved": "Niet verhuisd: {error}.",
    "migrate.moving": "{source} wordt verhuisd naar {target} ({rows}).",
    "migrate.progress": "Kopiëren",
    "migrate.left_empty": "Niet verhuisd, het doel is leeg gelaten: {error}",
    "migrate.done": (
        "Verhuisd en gecontroleerd. Zet database_url (of $TRENDWATCH_DATABASE_URL) op {url}"
        " om haar te gebruiken; {source} is gelaten zoals ze was."
    ),
    "migrate.title": "Rijen per tabel",
    "migrate.col.table": "tabel",
    "migrate.different": "ANDERS",
    # run, serve
    "run.already": "Draait al:",
    "run.held": ("{holder} houdt {path} vast; stop dat eerst (één 'trendwatch run' per {scope})."),
    "serve.serving": "{title} op http://{host}:{port}/ ({path})",
}
