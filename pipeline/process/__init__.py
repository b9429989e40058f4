"""The process stage: language, spaCy analysis, watchlist matching, near duplicates,
stories and trends for every new article."""
