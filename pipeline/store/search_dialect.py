"""Full-text search on PostgreSQL: a parsed query (:mod:`pipeline.search.query`) as a
``tsquery`` over ``article_search.document``, and its rank.

The document (schema v5) is the title (weight A) and the text (weight B) under the
article's language configuration (``dutch``, ``english``, else ``simple``), and the
lemmas (weight A) under ``simple``. The tsquery is built from the same parsed form as
FTS5's MATCH expression (:func:`pipeline.store.search.match_expression`), with
tsquery's operators in SQL (``&&``, ``||``, ``!!``) and every typed word a parameter:

- a word: ``plainto_tsquery(config, word)`` (stemmed as the article's words are), or
  its folded form or one of its lemmas in the lemma column
  (``to_tsquery('simple', 'w' | 'lemma')``);
- a phrase: ``phraseto_tsquery(config, words)`` (``<->``, stop words leaving a gap);
- a prefix: ``to_tsquery(config, 'ver':*)``, and the same under ``simple`` (lemmas);
- groups joined with ``&&``, the terms of a group with ``||``, excluded terms with
  ``&& !!(...)``.

The configuration is the article's: one query per configuration, each tried on the
articles of its language (:func:`match_sql`), so the GIN index answers each. Nothing
typed is read as tsquery syntax: words go to ``plainto``/``phraseto_tsquery``, which
take plain text, and a prefix is quoted before ``:*`` is added.

Ranking (:func:`rank_sql`): ``ts_rank_cd`` (cover density: every occurrence counts,
weighted) with the weights {D, C, B, A} = {0, 0, 0.2, 1}: the title five times the
text, as bm25's weights on SQLite; the lemmas weigh as the title (they share weight A
in the stored document), not two fifths of it. (``ts_rank`` put an article with the
word once in its text before one with it in its title and text.)
"""

from __future__ import annotations

from typing import Any

from pipeline.process.watchlists.matching import fold
from pipeline.search.query import SearchQuery, Term

# The article's language → its text-search configuration (as the schema's document).
CONFIGS = {"nl": "dutch", "en": "english"}
OTHER_CONFIG = "simple"
RANK_WEIGHTS = "'{0, 0, 0.2, 1.0}'::float4[]"  # D, C, B (text), A (title, lemmas)


def tsquery_lexeme(word: str) -> str:
    """``word`` as one quoted operand of to_tsquery's syntax (quotes and backslashes
    escaped), so nothing in it is read as an operator."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _term(term: Term, config: str) -> tuple[str, list[Any]]:
    """One term under ``config``, as SQL and its parameters."""
    cfg = f"'{config}'::regconfig"
    if term.phrase:
        return f"phraseto_tsquery({cfg}, ?)", [" ".join(term.words)]
    if term.prefix:
        operand = tsquery_lexeme(term.words[0]) + ":*"
        return f"(to_tsquery({cfg}, ?) || to_tsquery('simple', ?))", [operand, operand]
    lemmas = sorted(term.lemmas | {fold(term.words[0])})
    either = " | ".join(map(tsquery_lexeme, lemmas))
    return f"(plainto_tsquery({cfg}, ?) || to_tsquery('simple', ?))", [term.words[0], either]


def _any(terms: tuple[Term, ...], config: str) -> tuple[str, list[Any]]:
    parts = [_term(t, config) for t in terms]
    return "(" + " || ".join(sql for sql, _ in parts) + ")", [p for _, ps in parts for p in ps]


def tsquery_sql(query: SearchQuery, config: str) -> tuple[str, list[Any]]:
    """The tsquery of ``query`` (not empty) under ``config``: SQL and its parameters."""
    if query.empty:
        raise ValueError("an empty query has no tsquery")
    groups = [_any(g, config) for g in query.groups]
    sql = " && ".join(s for s, _ in groups)
    params = [p for _, ps in groups for p in ps]
    if query.excluded:
        excluded, more = _any(query.excluded, config)
        sql = f"({sql}) && !!{excluded}"
        params += more
    return f"({sql})", params


def match_sql(query: SearchQuery, table: str, language: str | None) -> tuple[str, list[Any]]:
    """Whether a row of ``table`` matches ``query`` under its language's configuration
    (only ``language``'s when the search is filtered by it)."""
    branches: list[tuple[str, str]] = [
        (f"{table}.language = '{code}'", config) for code, config in CONFIGS.items()
    ]
    known = ", ".join(f"'{code}'" for code in CONFIGS)
    branches.append((f"{table}.language NOT IN ({known})", OTHER_CONFIG))
    if language is not None:
        config = CONFIGS.get(language, OTHER_CONFIG)
        branches = [(f"{table}.language = ?", config)]
    parts, params = [], []
    for condition, config in branches:
        sql, more = tsquery_sql(query, config)
        parts.append(f"({condition} AND {table}.document @@ {sql})")
        params += ([language] if language is not None else []) + more
    return "(" + " OR ".join(parts) + ")", params


def rank_sql(query: SearchQuery, table: str) -> tuple[str, list[Any]]:
    """The rank of a matching row (higher is better), under its language's
    configuration."""
    cases, params = [], []
    for code, config in CONFIGS.items():
        sql, more = tsquery_sql(query, config)
        cases.append(f"WHEN '{code}' THEN {sql}")
        params += more
    other, more = tsquery_sql(query, OTHER_CONFIG)
    params += more
    chosen = f"CASE {table}.language {' '.join(cases)} ELSE {other} END"
    return f"ts_rank_cd({RANK_WEIGHTS}, {table}.document, {chosen})", params
