"""Render an :class:`~digests.model.Edition` to HTML + plain text: the public API.

:func:`render_edition` is what callers use, for the web version or one recipient. The
work is done in:

- :mod:`digests.views`: the edition as ready-made, localised template values (the
  e-mail's view and the web version's);
- :mod:`digests.personalise`: one edition for many recipients, rendered once and then
  filled in with each reader's personal values;
- :mod:`digests.templating`: the Jinja environment (packaged templates, overrides);
- :mod:`digests.text`: feed text and URLs made safe to show;
- :mod:`digests.archive_pages`: the archive's index pages and feed.

The names below stay importable from here for callers.
"""

from __future__ import annotations

from pathlib import Path

from digests.cache import IdentityCache
from digests.model import Edition, Recipient
from digests.personalise import EditionRenderer
from digests.templating import Rendered, environment
from digests.text import clean_text, safe_url, unsubscribe_mailto
from digests.views import edition_context, make_subject, web_url

__all__ = [
    "EditionRenderer",
    "Rendered",
    "clean_text",
    "edition_context",
    "edition_renderer",
    "environment",
    "make_subject",
    "render_edition",
    "render_web_page",
    "safe_url",
    "unsubscribe_mailto",
    "web_url",
]

_RENDERERS = IdentityCache(8)  # the renderers of the last few editions


def render_edition(
    edition: Edition,
    recipient: Recipient | None = None,
    *,
    template_dir: Path | None = None,
    sender: str = "",
) -> Rendered:
    """HTML (CSS inlined) and plain text of ``edition``; ``recipient`` None: web version.

    The same as ``EditionRenderer(edition, template_dir=..., sender=...).render(recipient)``;
    the renderer of the last few (edition, template_dir, sender) is kept, so rendering
    one edition for many recipients in a row does the edition's work once.
    """
    return _renderer(edition, template_dir, sender).render(recipient)


def edition_renderer(
    edition: Edition, *, template_dir: Path | None = None, sender: str = ""
) -> EditionRenderer:
    """The renderer :func:`render_edition` uses for ``edition`` (the kept one, if it is
    among the last few): hold on to it to render the edition for many recipients, and
    its archive page, from one set of views and one skeleton."""
    return _renderer(edition, template_dir, sender)


def render_web_page(edition: Edition, *, template_dir: Path | None = None) -> str:
    """The HTML of ``edition``'s web version, ``render_edition(edition).html``, without
    rendering the text part the archive page does not need. Not kept: a page is
    written once."""
    return EditionRenderer(edition, template_dir=template_dir).web_html()


def _renderer(edition: Edition, template_dir: Path | None, sender: str) -> EditionRenderer:
    return _RENDERERS.get(
        edition,
        (_template_key(template_dir), sender),
        lambda: EditionRenderer(edition, template_dir=template_dir, sender=sender),
    )


def _template_key(template_dir: Path | None) -> str | None:
    return str(Path(template_dir).resolve()) if template_dir else None
