"""Full-text search over the articles: what people type into a search box, turned into
a query the store's FTS5 index answers, and the snippets that show why an article was
found. Pure, apart from the lemmatiser (spaCy, loaded on first use)::

    "nieuwe woningen" -huur   --query.parse-->       SearchQuery (groups, exclusions)
    SearchQuery               --query.with_lemmas--> each word with its lemmas
                                                     (lemmas.query_lemmas: nl, en)
    SearchQuery + filters     --Store.search-->      SearchPage (hits, total)
                                                     (pipeline/store/search.py)
    hit text + Highlight      --snippet.snippet-->   [(text, is_match), ...]

- ``query``: the search box's syntax (words, ``"phrases"``, ``-word``, ``OR``, ``word*``),
  parsed leniently: every input gives a query, never a syntax error;
- ``lemmas``: a query word's lemmas as the NLP stage lemmatises an article's words
  (the blank pipeline with ``trendwatch_lemmas``), folded as ``article_features.terms``;
- ``snippet``: the part of a text with the most matches, matches marked (words, their
  inflected forms, phrases, prefixes), as plain text segments: the page escapes them.
"""
