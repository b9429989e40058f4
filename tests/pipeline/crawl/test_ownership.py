"""Who owns an article's row when an alert and a feed bring in the same URL
(pipeline.crawl.ownership): plain data in, an answer out; no SQLite, no servers."""

from __future__ import annotations

import pytest

from pipeline.crawl.ownership import Action, Claim, Holder, claim, must_look_up

ALERT, FEED, OTHER_FEED, OTHER_ALERT = 1, 2, 3, 4


def test_an_alerts_entry_nobody_holds_gets_its_own_row() -> None:
    assert claim(ALERT, True, []) == Claim(Action.INSERT)


def test_an_alerts_entry_it_holds_itself_under_another_identity_gets_a_row() -> None:
    assert claim(ALERT, True, [Holder(5, ALERT, alert=True)]) == Claim(Action.INSERT)


@pytest.mark.parametrize("holder", [Holder(5, FEED, alert=False), Holder(6, OTHER_ALERT, True)])
def test_an_alerts_entry_another_source_holds_is_known(holder: Holder) -> None:
    assert claim(ALERT, True, [holder]) == Claim(Action.KNOWN)
    assert claim(ALERT, True, [Holder(5, ALERT, True), holder]).action is Action.KNOWN


def test_a_feeds_entry_nobody_holds_gets_its_own_row() -> None:
    assert claim(FEED, False, []) == Claim(Action.INSERT)


def test_a_feeds_entry_only_alerts_hold_takes_over_the_oldest_alert_row() -> None:
    assert claim(FEED, False, [Holder(9, ALERT, True)]) == Claim(Action.TAKE_OVER, 9)
    holders = [Holder(12, OTHER_ALERT, True), Holder(7, ALERT, True)]
    assert claim(FEED, False, holders) == Claim(Action.TAKE_OVER, 7)


@pytest.mark.parametrize("feed_holder", [Holder(3, OTHER_FEED, False), Holder(3, FEED, False)])
def test_once_a_feed_holds_the_url_no_alert_row_is_taken_over(feed_holder: Holder) -> None:
    holders = [Holder(2, ALERT, True), feed_holder]
    assert claim(FEED, False, holders) == Claim(Action.INSERT)


def test_the_rows_under_a_url_are_looked_up_only_where_an_alert_can_share_it() -> None:
    assert must_look_up("https://example.test/a", from_alert=True, alerts_exist=True)
    assert must_look_up("https://example.test/a", from_alert=False, alerts_exist=True)
    assert not must_look_up("https://example.test/a", from_alert=False, alerts_exist=False)
    assert not must_look_up(None, from_alert=True, alerts_exist=True)
    assert not must_look_up("", from_alert=False, alerts_exist=True)
