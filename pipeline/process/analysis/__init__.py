"""Article analysis, pure and parallel: language (``language``), the spaCy pipelines
(``nlp``) and our registered components (``components``), the features they yield
(``features``), and the function that turns a batch of articles into features
(``analyse``). ``warmup`` preloads them in the worker processes' fork server."""
