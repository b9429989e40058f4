"""The strings of the stories pages, in Dutch and English (keys prefixed ``stories.``)."""

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "stories.kicker": "Verhaal",
        "stories.summary": "{articles} uit {sources}, {period}.",
        "stories.source.one": "bron",
        "stories.source.other": "bronnen",
        "stories.in_watchlists": "Onderwerpen",
        "stories.names": "Namen",
        "stories.keyphrases": "Kernwoorden",
        "stories.tags_intro": "Het getal is het aantal artikelen dat het noemt.",
        "stories.timeline": "Tijdlijn",
        "stories.timeline_intro": (
            "Alle artikelen, de oudste bovenaan. Kopieën van hetzelfde artikel staan"
            " onder het origineel."
        ),
        "stories.copies.one": "1 kopie: {sources}",
        "stories.copies.other": "{count} kopieën: {sources}",
        "stories.more": "De nieuwste {articles} staan hier niet.",
        "stories.lang.nl": "Nederlands",
        "stories.lang.en": "Engels",
        "stories.lang.other": "taal: {code}",
        "error.404.no_story": "Dit verhaal bestaat niet (meer).",
    },
    "en": {
        "stories.kicker": "Story",
        "stories.summary": "{articles} from {sources}, {period}.",
        "stories.source.one": "source",
        "stories.source.other": "sources",
        "stories.in_watchlists": "Topics",
        "stories.names": "Names",
        "stories.keyphrases": "Keyphrases",
        "stories.tags_intro": "The number is how many articles mention it.",
        "stories.timeline": "Timeline",
        "stories.timeline_intro": (
            "Every article, the oldest first. Copies of the same article are folded under"
            " the original."
        ),
        "stories.copies.one": "1 copy: {sources}",
        "stories.copies.other": "{count} copies: {sources}",
        "stories.more": "The newest {articles} are not shown here.",
        "stories.lang.nl": "Dutch",
        "stories.lang.en": "English",
        "stories.lang.other": "language: {code}",
        "error.404.no_story": "This story does not exist (any more).",
    },
}
