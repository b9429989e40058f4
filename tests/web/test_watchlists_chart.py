"""The weekly chart (web.charts), a pure function without a server: counts per ISO week
in, SVG text out; numbers as text labels, a title and a description, readable without
colour (labels, hatching for the week not yet over), every text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from web.charts import Bar, bar_chart, week_bars, week_chart

SVG = "{http://www.w3.org/2000/svg}"
COUNTS = [("2026-W52", 4), ("2026-W53", 0), ("2027-W01", 12), ("2027-W02", 7)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}rect") is not None][: len(COUNTS)]


def test_every_week_is_a_bar_with_its_number_and_week_as_text() -> None:
    svg = week_chart(COUNTS, title="Artikelen per week", desc="Vier weken", current="2027-W02")
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "weeks-title weeks-desc"
    assert root.find(f"{SVG}title").text == "Artikelen per week"
    assert root.find(f"{SVG}desc").text == "Vier weken"
    groups = bars_of(root)
    assert len(groups) == 4
    texts = [[t.text for t in g.findall(f"{SVG}text")] for g in groups]
    # the number on the bar, the week under it, the year under each year's first week
    assert texts == [["4", "52", "2026"], ["0", "53"], ["12", "1", "2027"], ["7", "2"]]
    tooltips = [g.find(f"{SVG}title").text for g in groups]
    assert tooltips == ["2026-W52: 4", "2026-W53: 0", "2027-W01: 12", "2027-W02: 7"]


def test_bar_heights_follow_the_counts_and_the_highest_fills_the_plot() -> None:
    root = parse(week_chart(COUNTS, title="t", desc="d"))
    heights = [float(g.find(f"{SVG}rect").get("height")) for g in bars_of(root)]
    assert heights[1] == 0 and heights[2] == max(heights)
    assert heights[0] == pytest.approx(heights[2] * 4 / 12, abs=0.1)
    assert heights[3] == pytest.approx(heights[2] * 7 / 12, abs=0.1)


def test_the_week_not_over_is_hatched_and_the_legend_says_so_in_words() -> None:
    svg = week_chart(
        COUNTS, title="t", desc="d", current="2027-W02", partial_note="deze week, nog niet voorbij"
    )
    root = parse(svg)
    fills = [g.find(f"{SVG}rect").get("fill") for g in bars_of(root)]
    assert fills[:3] == ["#c8102e"] * 3 and fills[3] == "url(#weeks-hatch)"
    assert root.find(f".//{SVG}pattern").get("id") == "weeks-hatch"
    assert "deze week, nog niet voorbij" in [t.text for t in root.iter(f"{SVG}text")]
    # without a week in progress there is no legend
    assert "nog niet voorbij" not in week_chart(
        COUNTS, title="t", desc="d", partial_note="nog niet voorbij"
    )


def test_all_text_is_escaped() -> None:
    evil = '<script>alert("x")</script> & </title>'
    svg = bar_chart(
        [Bar(label=evil, value=1, title=evil, note=evil)],
        title=evil,
        desc=evil,
        number=lambda n: f"<b>{n}</b>",
    )
    assert "<script>" not in svg and "</title> &" not in svg and "<b>" not in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == evil
    assert evil in [t.text for t in root.iter(f"{SVG}text")]
    assert "&lt;b&gt;1&lt;/b&gt;" in svg


def test_numbers_are_formatted_as_asked_and_ids_are_checked() -> None:
    svg = week_chart(
        [("2026-W48", 1234)], title="t", desc="d", number=lambda n: f"{n:,}".replace(",", ".")
    )
    assert ">1.234</text>" in svg
    with pytest.raises(ValueError, match="chart_id"):
        week_chart(COUNTS, title="t", desc="d", chart_id='x" onload="alert(1)')
    with pytest.raises(ValueError):
        week_bars([("2026-W54", 1)])  # no such week


def test_no_counts_and_only_zeros_draw_an_empty_chart() -> None:
    for counts in ([], [("2026-W48", 0), ("2026-W49", 0)]):
        root = parse(week_chart(counts, title="t", desc="d"))
        assert all(float(r.get("height", "0")) == 0 for r in root.iter(f"{SVG}rect") if r.get("x"))
    negative = parse(bar_chart([Bar("1", -5, "t")], title="t", desc="d"))
    assert next(t.text for t in negative.iter(f"{SVG}text")) == "0"


def test_no_style_attribute_for_the_content_security_policy() -> None:
    svg = week_chart(COUNTS, title="t", desc="d", current="2027-W02", partial_note="p")
    assert not re.search(r"\sstyle=", svg) and "<style" not in svg
