"""Stories across languages from real text: the analysis and the clusterer together
(a blank spaCy pipeline, no servers). A Dutch and an English report of one event
share their figures and names in other spellings and join; two strikes of the same
kind at two bus companies share the domain's words in both languages and stay apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nlp_support import PLAIN
from pipeline.process.analysis.analyse import ArticleInput, analyse
from pipeline.process.analysis.features import ArticleFeatures
from pipeline.process.stories import ClusterConfig
from pipeline.process.stories.lexicon import load_names
from story_support import cluster

T0 = datetime(2027, 1, 11, 7, 0, tzinfo=UTC)

ARRIVA_NL = (
    "Buschauffeurs Arriva leggen 48 uur het werk neer",
    "De buschauffeurs van Arriva in Limburg staken vanaf maandag 48 uur. Vakbond FNV"
    " eist 4,1 procent loonsverhoging en minder lange diensten. Volgens Arriva kost de"
    " staking het bedrijf € 3,5 miljoen. Ruim 1.200 chauffeurs rijden niet, ook niet in"
    " Maastricht en Heerlen.",
)
ARRIVA_EN = (
    "Arriva bus drivers in Limburg walk out for two days",
    "Bus drivers at Arriva in the Dutch province of Limburg began a 48-hour strike on"
    " Monday. Dutch union FNV wants a 4.1% pay rise and shorter shifts. Arriva put the"
    " cost of the walkout at €3.5m. About 1,200 drivers stayed home, and commuters in"
    " Maastricht and Heerlen were left without buses.",
)
QBUZZ_NL = (
    "Staking bij Qbuzz in Groningen",
    "Bij Qbuzz in Groningen staken de buschauffeurs dinsdag 24 uur. De vakbond CNV wil"
    " een hogere werkdrukvergoeding. Ongeveer 650 chauffeurs doen mee, in Assen en"
    " Emmen rijden geen bussen.",
)
QBUZZ_EN = (
    "Qbuzz drivers strike in the north",
    "Drivers at Qbuzz in Groningen held a 24-hour strike on Tuesday. The CNV union is"
    " asking for a higher workload allowance. Some 650 drivers took part and no buses"
    " ran in Assen and Emmen.",
)


def _features(rows: list[tuple[int, str, tuple[str, str], timedelta]]) -> list[ArticleFeatures]:
    inputs = [
        ArticleInput(id_, title, text, language=lang, published=T0 + after)
        for id_, lang, (title, text), after in rows
    ]
    return sorted(analyse(inputs, PLAIN), key=lambda f: (f.published, f.id))


def test_both_reports_of_one_event_share_their_figures_and_names() -> None:
    nl, en = _features(
        [(1, "nl", ARRIVA_NL, timedelta(0)), (2, "en", ARRIVA_EN, timedelta(hours=2))]
    )
    # 1.200 / 1,200; 4,1 procent / 4.1%; € 3,5 miljoen / €3.5m; 48 uur / 48-hour
    assert {"1200", "4.1%", "3500000", "48"} <= nl.numbers & en.numbers
    # "Vakbond FNV" / "Dutch union FNV": one name once the description is dropped
    assert {"arriva", "fnv", "limburg", "maastricht", "heerlen"} <= _names(nl) & _names(en)


def test_a_dutch_and_an_english_report_of_one_event_join() -> None:
    articles = _features(
        [(1, "nl", ARRIVA_NL, timedelta(0)), (2, "en", ARRIVA_EN, timedelta(hours=2))]
    )
    assigned, _ = cluster(articles)
    assert assigned[1] == assigned[2]


def test_two_bus_strikes_sharing_only_domain_words_stay_apart() -> None:
    articles = _features(
        [
            (1, "nl", ARRIVA_NL, timedelta(0)),
            (2, "en", ARRIVA_EN, timedelta(hours=2)),
            (3, "nl", QBUZZ_NL, timedelta(days=1)),
            (4, "en", QBUZZ_EN, timedelta(days=1, hours=3)),
        ]
    )
    assigned, _ = cluster(articles)
    assert assigned[1] == assigned[2]
    assert assigned[3] == assigned[4]
    assert assigned[1] != assigned[3]


def test_the_english_report_of_one_strike_does_not_join_the_dutch_report_of_the_other() -> None:
    """Without the report in its own language to lean on, an English strike report
    meets only the other strike's Dutch report: domain words (strike, bus, driver,
    union) are all they share, and they stay two stories, also without time decay."""
    articles = _features(
        [(1, "nl", ARRIVA_NL, timedelta(0)), (4, "en", QBUZZ_EN, timedelta(hours=2))]
    )
    for config in (ClusterConfig(), ClusterConfig(half_life=None)):
        assigned, _ = cluster(articles, config)
        assert assigned[1] != assigned[4]


def _names(article: ArticleFeatures) -> set[str]:
    """The article's names in their common forms."""
    forms = load_names()
    return {forms.canonical(entity.key) for entity in article.entities}
