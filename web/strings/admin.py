"""The strings of the admin pages, in Dutch and English (keys prefixed ``admin.``)."""

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "admin.title": "Beheer",
        "admin.nav.overview": "Overzicht",
        "admin.nav.watchlists": "Onderwerpen",
        "admin.nav.sources": "Bronnen",
        "admin.nav.subscribers": "Abonnees",
        "admin.overview.watchlists": (
            "{count} onderwerpen; maak ze en pas ze aan met een voorbeeld."
        ),
        "admin.overview.sources": (
            "{count} bronnen, waarvan {failing} met problemen; voeg een bron toe."
        ),
        "admin.overview.subscribers": "{count} abonnees; {failed} mislukte bezorgingen.",
        "admin.field.name": "Naam",
        "admin.field.name.hint": (
            "Kleine letters, cijfers en '-', zoals 'thuiswerken'. Staat in de config en in"
            " adressen; later niet te wijzigen."
        ),
        "admin.field.title": "Titel",
        "admin.field.query": "Zoekopdracht",
        "admin.field.query.hint": (
            'Zoals bij Google Alerts: woorden (alle moeten voorkomen), "een exacte zin",'
            " OR, -uitsluiten, (groepen), intitle:, site:, lang:."
        ),
        "admin.watchlists.title": "Onderwerpen",
        "admin.watchlists.intro": (
            "De onderwerpen uit de config, met hun treffers van de laatste 30 dagen."
        ),
        "admin.watchlists.new": "Nieuw onderwerp",
        "admin.watchlists.matches": "Treffers (30 dagen)",
        "admin.watchlists.entities": "en namen: {names}",
        "admin.watchlists.none": "Er zijn nog geen onderwerpen.",
        "admin.editor.new": "Nieuw onderwerp",
        "admin.editor.edit": "Onderwerp {name}",
        "admin.editor.save": "Opslaan",
        "admin.editor.preview": "Voorbeeld",
        "admin.editor.refused": "Niet opgeslagen; de config is niet veranderd:",
        "admin.editor.entities": (
            "Dit onderwerp vindt ook artikelen die deze namen noemen: {names}. Het voorbeeld"
            " toont alleen wat de zoekopdracht vindt."
        ),
        "admin.saved": "Opgeslagen in de config.",
        "admin.run.reloaded": (
            "De draaiende trendwatch run leest de config opnieuw en zoekt de opgeslagen"
            " artikelen opnieuw door."
        ),
        "admin.run.none": (
            "Er draait geen trendwatch run; die leest de config als hij start. De opgeslagen"
            " artikelen worden nu opnieuw doorzocht."
        ),
        "admin.run.manual": (
            "Een trendwatch run draait, maar kon geen signaal krijgen: laat hem de config"
            " opnieuw lezen met SIGHUP (systemctl reload) of herstart hem."
        ),
        "admin.rematching": (
            "De opgeslagen artikelen worden nog opnieuw doorzocht (tot artikel {done} van"
            " {total}); laad de pagina opnieuw om het te volgen."
        ),
        "admin.preview.title": "Voorbeeld: laatste 30 dagen",
        "admin.preview.count": "{count} gevonden (van {searched} doorzocht).",
        "admin.preview.searched": "doorzocht",
        "admin.preview.weeks": "Treffers per week",
        "admin.preview.week": "Week",
        "admin.preview.articles": "Artikelen",
        "admin.preview.bar": "Balk",
        "admin.preview.newest": "De nieuwste {count}, met waarom ze gevonden zijn",
        "admin.preview.where.title": "in de titel",
        "admin.preview.where.body": "in de tekst",
        "admin.preview.where.title+body": "in titel en tekst",
        "admin.preview.where.none": "op site of taal",
        "admin.preview.words": "woorden: {words}",
        "admin.preview.error": "Fout in de zoekopdracht op positie {position}: {message}",
        "admin.preview.preparing": (
            "Het voorbeeld wordt voorbereid: {done} van {total} artikelen gelezen…"
        ),
        "admin.preview.empty": "Typ een zoekopdracht om te zien wat die de laatste 30 dagen vond.",
        "admin.sources.title": "Bronnen",
        "admin.sources.scheduler": "Draait: {holder}.",
        "admin.sources.no_scheduler": "Er draait geen trendwatch run.",
        "admin.sources.next_crawl": "Volgende ronde: {at}.",
        "admin.sources.source": "Bron",
        "admin.sources.health": "Toestand",
        "admin.sources.last_success": "Laatst gelukt",
        "admin.sources.last_error": "Laatste fout",
        "admin.sources.next_poll": "Volgende keer",
        "admin.sources.articles": "Artikelen",
        "admin.sources.none": "Er zijn nog geen bronnen.",
        "admin.sources.add": "Bron toevoegen",
        "admin.sources.add.intro": (
            "Geef het adres van een site: de feed wordt gezocht (zoals trendwatch sources add)"
            " en achteraan de config toegevoegd."
        ),
        "admin.sources.url": "Adres van de site of feed",
        "admin.sources.name": "Naam (leeg: de titel van de feed)",
        "admin.sources.language": "Taal",
        "admin.sources.language.feed": "Zoals de feed zegt",
        "admin.sources.submit": "Zoek de feed en voeg toe",
        "admin.sources.refused": "Niet toegevoegd; de config is niet veranderd:",
        "admin.sources.bad_language": "De taal moet een code van twee letters zijn, zoals nl.",
        "admin.sources.added": "Toegevoegd: {name}.",
        "admin.sources.others": "De site heeft nog meer feeds:",
        "admin.language.nl": "Nederlands",
        "admin.language.en": "Engels",
        "admin.subscribers.title": "Abonnees",
        "admin.subscribers.configured": "In de config",
        "admin.subscribers.web": "Aangemeld via de site",
        "admin.subscribers.unsubscribed": "Afgemeld",
        "admin.subscribers.nobody_left": "Niemand heeft zich afgemeld.",
        "admin.subscribers.failed": "Mislukte bezorgingen",
        "admin.subscribers.no_failures": "Geen mislukte bezorgingen.",
        "admin.subscribers.none": "Geen abonnees.",
        "admin.subscribers.who": "Abonnee",
        "admin.subscribers.watchlists": "Onderwerpen",
        "admin.subscribers.when": "Digest",
        "admin.subscribers.deliveries": "Bezorgd",
        "admin.subscribers.confirmed": "Bevestigd",
        "admin.subscribers.edition": "Editie",
        "admin.subscribers.status": "Stand",
        "admin.subscribers.error": "Antwoord van de server",
        "admin.subscribers.counts": "{sent} verstuurd, {failed} mislukt, {waiting} wachtend",
        "admin.subscribers.last_sent": "laatst op {day}",
        "admin.subscribers.status.failed": "mislukt na {attempts} pogingen",
        "admin.subscribers.status.retrying": "{attempts} pogingen, wordt opnieuw geprobeerd",
        "admin.subscribers.next_attempt": "volgende poging {day}",
        "admin.weekday.0": "maandag",
        "admin.weekday.1": "dinsdag",
        "admin.weekday.2": "woensdag",
        "admin.weekday.3": "donderdag",
        "admin.weekday.4": "vrijdag",
        "admin.weekday.5": "zaterdag",
        "admin.weekday.6": "zondag",
    },
    "en": {
        "admin.title": "Admin",
        "admin.nav.overview": "Overview",
        "admin.nav.watchlists": "Topics",
        "admin.nav.sources": "Sources",
        "admin.nav.subscribers": "Subscribers",
        "admin.overview.watchlists": "{count} topics; create and edit them with a preview.",
        "admin.overview.sources": "{count} sources, {failing} of them with problems; add a source.",
        "admin.overview.subscribers": "{count} subscribers; {failed} failed deliveries.",
        "admin.field.name": "Name",
        "admin.field.name.hint": (
            "Lower-case letters, digits and '-', such as 'remote-work'. Used in the config"
            " and in addresses; it cannot be changed later."
        ),
        "admin.field.title": "Title",
        "admin.field.query": "Query",
        "admin.field.query.hint": (
            'As in Google Alerts: words (all must occur), "an exact phrase", OR, -exclude,'
            " (groups), intitle:, site:, lang:."
        ),
        "admin.watchlists.title": "Topics",
        "admin.watchlists.intro": "The config's topics, with their matches of the last 30 days.",
        "admin.watchlists.new": "New topic",
        "admin.watchlists.matches": "Matches (30 days)",
        "admin.watchlists.entities": "and names: {names}",
        "admin.watchlists.none": "There are no topics yet.",
        "admin.editor.new": "New topic",
        "admin.editor.edit": "Topic {name}",
        "admin.editor.save": "Save",
        "admin.editor.preview": "Preview",
        "admin.editor.refused": "Not saved; the config has not changed:",
        "admin.editor.entities": (
            "This topic also finds articles that name: {names}. The preview shows what the"
            " query finds."
        ),
        "admin.saved": "Saved in the config.",
        "admin.run.reloaded": (
            "The running trendwatch run reads the config again and matches the stored"
            " articles again."
        ),
        "admin.run.none": (
            "No trendwatch run is running; it reads the config when it starts. The stored"
            " articles are being matched again now."
        ),
        "admin.run.manual": (
            "A trendwatch run is running but could not be signalled: have it reload the"
            " config with SIGHUP (systemctl reload) or restart it."
        ),
        "admin.rematching": (
            "The stored articles are still being matched again (up to article {done} of"
            " {total}); reload the page to follow it."
        ),
        "admin.preview.title": "Preview: last 30 days",
        "admin.preview.count": "{count} found ({searched} searched).",
        "admin.preview.searched": "searched",
        "admin.preview.weeks": "Matches per week",
        "admin.preview.week": "Week",
        "admin.preview.articles": "Articles",
        "admin.preview.bar": "Bar",
        "admin.preview.newest": "The newest {count}, with why they matched",
        "admin.preview.where.title": "in the title",
        "admin.preview.where.body": "in the text",
        "admin.preview.where.title+body": "in title and text",
        "admin.preview.where.none": "by site or language",
        "admin.preview.words": "words: {words}",
        "admin.preview.error": "Error in the query at position {position}: {message}",
        "admin.preview.preparing": "Preparing the preview: {done} of {total} articles read…",
        "admin.preview.empty": "Type a query to see what it found in the last 30 days.",
        "admin.sources.title": "Sources",
        "admin.sources.scheduler": "Running: {holder}.",
        "admin.sources.no_scheduler": "No trendwatch run is running.",
        "admin.sources.next_crawl": "Next crawl: {at}.",
        "admin.sources.source": "Source",
        "admin.sources.health": "Health",
        "admin.sources.last_success": "Last success",
        "admin.sources.last_error": "Last error",
        "admin.sources.next_poll": "Next poll",
        "admin.sources.articles": "Articles",
        "admin.sources.none": "There are no sources yet.",
        "admin.sources.add": "Add a source",
        "admin.sources.add.intro": (
            "Give a site's address: its feed is looked for (as trendwatch sources add does)"
            " and appended to the config."
        ),
        "admin.sources.url": "Address of the site or feed",
        "admin.sources.name": "Name (empty: the feed's title)",
        "admin.sources.language": "Language",
        "admin.sources.language.feed": "As the feed says",
        "admin.sources.submit": "Find the feed and add it",
        "admin.sources.refused": "Not added; the config has not changed:",
        "admin.sources.bad_language": "The language must be a two-letter code, such as en.",
        "admin.sources.added": "Added: {name}.",
        "admin.sources.others": "The site offers more feeds:",
        "admin.language.nl": "Dutch",
        "admin.language.en": "English",
        "admin.subscribers.title": "Subscribers",
        "admin.subscribers.configured": "In the config",
        "admin.subscribers.web": "Signed up on the site",
        "admin.subscribers.unsubscribed": "Unsubscribed",
        "admin.subscribers.nobody_left": "Nobody has unsubscribed.",
        "admin.subscribers.failed": "Failed deliveries",
        "admin.subscribers.no_failures": "No failed deliveries.",
        "admin.subscribers.none": "No subscribers.",
        "admin.subscribers.who": "Subscriber",
        "admin.subscribers.watchlists": "Topics",
        "admin.subscribers.when": "Digest",
        "admin.subscribers.deliveries": "Delivered",
        "admin.subscribers.confirmed": "Confirmed",
        "admin.subscribers.edition": "Edition",
        "admin.subscribers.status": "State",
        "admin.subscribers.error": "The server's answer",
        "admin.subscribers.counts": "{sent} sent, {failed} failed, {waiting} waiting",
        "admin.subscribers.last_sent": "last on {day}",
        "admin.subscribers.status.failed": "failed after {attempts} attempts",
        "admin.subscribers.status.retrying": "{attempts} attempts, will be retried",
        "admin.subscribers.next_attempt": "next attempt {day}",
        "admin.weekday.0": "Monday",
        "admin.weekday.1": "Tuesday",
        "admin.weekday.2": "Wednesday",
        "admin.weekday.3": "Thursday",
        "admin.weekday.4": "Friday",
        "admin.weekday.5": "Saturday",
        "admin.weekday.6": "Sunday",
    },
}
