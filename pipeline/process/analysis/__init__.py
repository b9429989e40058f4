"""Article analysis, pure and parallel: language (``language``), the spaCy pipelines and
our registered components (``nlp``), the features they yield (``features``), and the
function that turns a batch of articles into features (``analyse``). ``warmup`` preloads
them in the worker processes' fork server."""
