"""Each area's page strings, one module per area (``search``, ``stories``,
``watchlists``, ``subscribe``, ``admin``), each with ``STRINGS = {"nl": {...}, "en":
{...}}`` and keys prefixed by the area (``search.title``). :mod:`web.i18n` merges them
into :data:`web.i18n.STRINGS`; a key defined twice is an error at import."""
