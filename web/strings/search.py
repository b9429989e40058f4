"""The strings of the search pages, in Dutch and English (keys prefixed ``search.``)."""

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "search.title": "Zoeken",
        "search.label": "Zoek in de artikelen",
        "search.placeholder": "Bijvoorbeeld: woningbouw -huur",
        "search.submit": "Zoeken",
        "search.filters": "Verfijnen",
        "search.watchlist": "Onderwerp",
        "search.any_watchlist": "Alle onderwerpen",
        "search.source": "Bron",
        "search.any_source": "Alle bronnen",
        "search.language": "Taal",
        "search.any_language": "Alle talen",
        "search.language.nl": "Nederlands",
        "search.language.en": "Engels",
        "search.from": "Vanaf",
        "search.to": "Tot en met",
        "search.sort": "Volgorde",
        "search.sort.relevance": "Beste eerst",
        "search.sort.newest": "Nieuwste eerst",
        "search.help": (
            "Zoek op woorden (ook hun vervoegingen: woning vindt woningen), een"
            ' "exacte zin", woord* voor alles wat zo begint, OR voor het een of het ander,'
            " en -woord om artikelen met dat woord over te slaan."
        ),
        "search.found": "{count} gevonden",
        "search.more_than": (
            "Meer dan {count} artikelen gevonden; hier staan de {count} die het laatst"
            " binnenkwamen. Verfijn je zoekopdracht om oudere te vinden."
        ),
        "search.none": "Niets gevonden. Probeer andere of minder woorden.",
        "search.no_words": "Typ een woord om naar te zoeken.",
        "search.only_excluded": (
            "Je zoekopdracht sluit alleen woorden uit (-woord). Typ ook een woord om naar"
            " te zoeken."
        ),
        "search.dropped": "Je zoekopdracht is lang: {count} woorden zijn niet meegenomen.",
        "search.failed": "Deze zoekopdracht lukte niet. Probeer het met andere woorden.",
        "search.invalid_date": "Een datum klopt niet; gebruik de vorm 2026-11-30.",
        "search.invalid_range": "De einddatum ligt vóór de begindatum.",
        "search.invalid_sort": "Kies als volgorde beste eerst of nieuwste eerst.",
        "search.invalid_page": "Dat paginanummer bestaat niet.",
        "search.invalid_language": "Kies als taal Nederlands of Engels.",
        "search.past_last": "Er zijn niet zoveel pagina's.",
        "search.first_page": "Naar de eerste pagina",
        "search.story": "Het hele verhaal",
        "search.pages": "Pagina's",
        "search.previous": "← Vorige",
        "search.next": "Volgende →",
        "search.home_label": "Zoek in alle artikelen",
    },
    "en": {
        "search.title": "Search",
        "search.label": "Search the articles",
        "search.placeholder": "For example: housing -rent",
        "search.submit": "Search",
        "search.filters": "Refine",
        "search.watchlist": "Topic",
        "search.any_watchlist": "All topics",
        "search.source": "Source",
        "search.any_source": "All sources",
        "search.language": "Language",
        "search.any_language": "All languages",
        "search.language.nl": "Dutch",
        "search.language.en": "English",
        "search.from": "From",
        "search.to": "Up to and including",
        "search.sort": "Order",
        "search.sort.relevance": "Best first",
        "search.sort.newest": "Newest first",
        "search.help": (
            "Search for words (their other forms too: company finds companies), an"
            ' "exact phrase", word* for everything that starts so, OR for one or the'
            " other, and -word to skip articles with that word."
        ),
        "search.found": "{count} found",
        "search.more_than": (
            "More than {count} articles found; these are the {count} that came in last."
            " Refine your search to find older ones."
        ),
        "search.none": "Nothing found. Try other or fewer words.",
        "search.no_words": "Type a word to search for.",
        "search.only_excluded": (
            "Your search only leaves words out (-word). Type a word to search for as well."
        ),
        "search.dropped": "Your search is long: {count} words were left out.",
        "search.failed": "This search did not work. Try other words.",
        "search.invalid_date": "A date is not right; use the form 2026-11-30.",
        "search.invalid_range": "The end date is before the start date.",
        "search.invalid_sort": "Choose best first or newest first as the order.",
        "search.invalid_page": "That page number does not exist.",
        "search.invalid_language": "Choose Dutch or English as the language.",
        "search.past_last": "There are not that many pages.",
        "search.first_page": "To the first page",
        "search.story": "The whole story",
        "search.pages": "Pages",
        "search.previous": "← Previous",
        "search.next": "Next →",
        "search.home_label": "Search all articles",
    },
}
