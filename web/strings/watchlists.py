"""The strings of the watchlists pages, in Dutch and English (keys prefixed ``watchlists.``)."""

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "watchlists.title": "Onderwerpen",
        "watchlists.intro": "Elk onderwerp met het aantal artikelen van deze week ({week}).",
        "watchlists.empty": "Er zijn nog geen onderwerpen ingesteld.",
        "watchlists.this_week": "deze week",
        "watchlists.page_intro": (
            "Hoe vaak {title} in het nieuws is: het aantal artikelen per week, het afgelopen"
            " halfjaar."
        ),
        "watchlists.feed": "Volg dit onderwerp in je feedlezer (Atom)",
        "watchlists.chart": "Artikelen per week",
        "watchlists.chart_title": "Artikelen per week over {title}",
        "watchlists.chart_desc": (
            "Staafdiagram van {weeks} weken, van {first} tot en met {last}: {articles}"
            " in totaal. Elke staaf draagt het aantal als getal."
        ),
        "watchlists.partial": "deze week, nog niet voorbij",
        "watchlists.table": "De getallen als tabel",
        "watchlists.week": "Week",
        "watchlists.articles": "Artikelen",
        "watchlists.so_far": "(tot nu toe)",
        "watchlists.rising": "Stijgend per week",
        "watchlists.rising_intro": (
            "Woorden en namen die vaker voorkwamen dan in de vier weken ervoor, met het"
            " aantal artikelen."
        ),
        "watchlists.rising_none": (
            "Nog niets dat opvalt: daarvoor zijn een paar weken nieuws nodig."
        ),
        "watchlists.terms": "Woorden",
        "watchlists.names": "Namen",
        "watchlists.stories": "Nieuwste verhalen",
        "watchlists.stories_none": "Nog geen artikelen over dit onderwerp.",
        "watchlists.also_in": "Ook bij",
        "watchlists.story_link": "Het hele verhaal",
        "watchlists.feed_story": "Het hele verhaal ({articles})",
        "error.404.no_watchlist": "Dit onderwerp bestaat niet (meer).",
    },
    "en": {
        "watchlists.title": "Topics",
        "watchlists.intro": "Every topic with its number of articles this week ({week}).",
        "watchlists.empty": "No topics have been set up yet.",
        "watchlists.this_week": "this week",
        "watchlists.page_intro": (
            "How often {title} is in the news: the number of articles per week over the"
            " last six months."
        ),
        "watchlists.feed": "Follow this topic in your feed reader (Atom)",
        "watchlists.chart": "Articles per week",
        "watchlists.chart_title": "Articles per week on {title}",
        "watchlists.chart_desc": (
            "Bar chart of {weeks} weeks, from {first} to {last}: {articles} in all. Each"
            " bar carries its number."
        ),
        "watchlists.partial": "this week, not over yet",
        "watchlists.table": "The numbers as a table",
        "watchlists.week": "Week",
        "watchlists.articles": "Articles",
        "watchlists.so_far": "(so far)",
        "watchlists.rising": "Rising by week",
        "watchlists.rising_intro": (
            "Words and names that came up more often than in the four weeks before, with the"
            " number of articles."
        ),
        "watchlists.rising_none": "Nothing stands out yet: that takes a few weeks of news.",
        "watchlists.terms": "Words",
        "watchlists.names": "Names",
        "watchlists.stories": "Latest stories",
        "watchlists.stories_none": "No articles on this topic yet.",
        "watchlists.also_in": "Also in",
        "watchlists.story_link": "The whole story",
        "watchlists.feed_story": "The whole story ({articles})",
        "error.404.no_watchlist": "This topic does not exist (any more).",
    },
}
