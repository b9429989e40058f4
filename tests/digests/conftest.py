"""Shared fixtures for the digests tests: a small, fixed edition in Nov 2026."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from digests.model import DigestItem, DigestSection, Edition, Recipient

AMS = ZoneInfo("Europe/Amsterdam")


def _at(day: int, hour: int = 9, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=AMS)


def make_items() -> tuple[DigestItem, ...]:
    return (
        DigestItem(
            title="LinkedIn-gebruik op kantoor verdubbeld",
            url="https://news.example.nl/linkedin-kantoor",
            source="NU.nl",
            published=_at(24),
            teaser="Werknemers besteden steeds meer werktijd aan LinkedIn, blijkt uit onderzoek.",
            matched=("social media", "werk"),
        ),
        DigestItem(
            title="Mag je baas je TikTok volgen?",
            url="https://www.example.com/baas-tiktok?ref=rss&utm=1",
            source="MT/Sprout",
            published=_at(26, 14),
            teaser="Een arbeidsrechtadvocaat legt uit waar de grens ligt.",
            matched=("tiktok",),
        ),
        DigestItem(
            title="Social-mediabeleid: vijf tips voor HR",
            url="https://hr.example.org/tips",
            source="HR Praktijk",
            published=_at(28, 7),
            teaser="",
            matched=(),
        ),
    )


def make_more_items() -> tuple[DigestItem, ...]:
    """The two stories the quota left out of the e-mail ("+2 meer in het archief"),
    which the archive page shows."""
    return (
        DigestItem(
            title="Ontslag na kritische tweet over werkgever",
            url="https://news.example.nl/ontslag-tweet",
            source="NOS",
            published=_at(25, 11),
            teaser="De kantonrechter oordeelde dat het ontslag terecht was.",
            matched=("werk",),
        ),
        DigestItem(
            title="Steeds meer vacatures via Instagram",
            url="https://news.example.nl/vacatures-instagram",
            source="Intermediair",
            published=_at(27, 16),
            teaser="",
            matched=("social media",),
        ),
    )


def build_edition(**overrides: Any) -> Edition:
    """The test edition; keyword arguments override fields (``language`` also the slug)."""
    language = overrides.pop("language", "nl")
    edition = Edition(
        key=f"2026-W48/{language}-social-media-werk",
        slug=f"{language}-social-media-werk",
        title="Trendwatch Werk en Leven",
        language=language,
        timezone="Europe/Amsterdam",
        period_start=datetime(2026, 11, 23, 0, 0, tzinfo=AMS),
        period_end=datetime(2026, 11, 29, 23, 59, 59, tzinfo=AMS),
        year=2026,
        week=48,
        sections=(
            DigestSection(
                watchlist="social-media-werk",
                title="Social media op het werk",
                items=make_items(),
                more=2,
                more_items=make_more_items(),
            ),
            DigestSection(watchlist="thuiswerken", title="Thuiswerken"),
        ),
        built_at=datetime(2026, 11, 30, 6, 0, tzinfo=AMS),
        base_url="https://trends.example.nl",
    )
    return replace(edition, **overrides)


@pytest.fixture
def make_edition() -> Callable[..., Edition]:
    """Factory fixture: ``make_edition(language="en", base_url=None, ...)``."""
    return build_edition


@pytest.fixture
def edition(make_edition: Callable[..., Edition]) -> Edition:
    return make_edition()


@pytest.fixture
def recipient() -> Recipient:
    return Recipient(
        email="anne.devries@example.nl",
        name="Anne de Vries",
        language="nl",
        watchlists=("social-media-werk", "thuiswerken"),
    )
