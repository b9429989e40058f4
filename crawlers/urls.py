"""URL normalisation: one canonical form per article link."""

from __future__ import annotations

from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from w3lib.url import url_query_cleaner

# Query parameters that only track the reader, never select content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_enc_id",
        "oly_anon_id",
        "vero_id",
        "wt_mc",
        "ref_src",
        "__twitter_impression",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")


def is_tracking_param(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute URL without tracking parameters and fragment, scheme and host lowercased.

    >>> canonical_url("HTTPS://Example.org:443/a?utm_source=x&id=3#top")
    'https://example.org/a?id=3'
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    netloc = host if port in (None, default) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = parts.path or "/"
    cleaned = urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))
    names = [k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if is_tracking_param(k)]
    if names:
        cleaned = url_query_cleaner(cleaned, names, remove=True, keep_fragments=False)
    return cleaned


def is_web_url(url: str | None) -> bool:
    """True for absolute http(s) URLs with a host."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
