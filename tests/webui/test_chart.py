"""The duration chart: oldest build left, bar height the duration, outcome by colour and symbol, links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from pipelines.status import Status
from webui.chart import ChartBuild, duration_chart_svg
from webui.present import status_icon

SVG = "{http://www.w3.org/2000/svg}"


def build(number: int, status: str = "success", seconds: float | None = 60.0) -> ChartBuild:
    """A build linking to its page."""
    return ChartBuild(number=number, status=status, seconds=seconds, href=f"/acme/app/{number}")


def parsed(builds: list[ChartBuild]) -> ET.Element:
    """The chart as XML; parsing proves it is well-formed."""
    root = ET.fromstring(duration_chart_svg(builds))
    assert root.tag == f"{SVG}svg"
    return root


def bars(root: ET.Element) -> list[dict[str, str]]:
    """Per build link, left to right: its href, title, bar class, height, and symbol."""
    found = []
    for link in root.iter(f"{SVG}a"):
        bar = next(rect for rect in link.iter(f"{SVG}rect") if "bar" in rect.get("class", "").split())
        symbol = link.find(f"{SVG}text")
        assert symbol is not None
        found.append(
            {
                "href": link.get("href", ""),
                "title": link.findtext(f"{SVG}title") or "",
                "class": bar.get("class", ""),
                "fill": bar.get("fill", ""),
                "height": bar.get("height", ""),
                "x": bar.get("x", ""),
                "symbol": symbol.text or "",
            }
        )
    return found


def test_no_builds_says_so() -> None:
    root = parsed([])
    assert root.get("role") == "img"
    assert root.get("aria-label") == "No builds yet"
    assert "No builds yet" in "".join(root.itertext())


def test_the_result_is_markup_so_templates_do_not_escape_it() -> None:
    assert isinstance(duration_chart_svg([build(1)]), Markup)
    assert isinstance(duration_chart_svg([]), Markup)


def test_the_chart_scales_by_its_view_box() -> None:
    root = parsed([build(1)])
    assert root.get("viewBox") == "0 0 600 140"
    assert root.get("width") is None


def test_builds_given_newest_first_are_drawn_oldest_left() -> None:
    shown = bars(parsed([build(3), build(2), build(1)]))
    assert [bar["href"] for bar in shown] == ["/acme/app/1", "/acme/app/2", "/acme/app/3"]
    xs = [float(bar["x"]) for bar in shown]
    assert xs == sorted(xs)


def test_only_the_last_50_builds_are_drawn() -> None:
    root = parsed([build(number) for number in range(60, 0, -1)])
    shown = bars(root)
    assert len(shown) == 50
    assert shown[0]["href"] == "/acme/app/11"
    assert shown[-1]["href"] == "/acme/app/60"
    assert root.get("aria-label", "").startswith("last 50 builds:")


def test_bar_height_follows_the_duration() -> None:
    shown = bars(parsed([build(3, seconds=30), build(2, seconds=120), build(1, seconds=60)]))
    heights = [float(bar["height"]) for bar in shown]
    assert heights[1] == max(heights)
    assert abs(heights[0] / heights[1] - 0.5) < 0.01
    assert abs(heights[2] / heights[1] - 0.25) < 0.01


def test_builds_still_going_get_a_short_outlined_bar_and_do_not_change_the_scale() -> None:
    finished = build(1, seconds=100)
    shown = bars(parsed([build(3, "pending", None), build(2, "running", 5000), finished]))
    alone = bars(parsed([finished]))
    assert shown[0]["height"] == alone[0]["height"]
    for bar in shown[1:]:
        assert "bar-unfinished" in bar["class"]
        assert float(bar["height"]) < float(shown[0]["height"]) / 4
    assert "bar-running" in shown[1]["class"]
    assert "bar-other" in shown[2]["class"]


def test_a_zero_second_build_is_still_visible() -> None:
    shown = bars(parsed([build(2, seconds=0), build(1, seconds=0)]))
    assert all(float(bar["height"]) > 0 for bar in shown)


def test_outcome_is_shown_by_class_colour_and_symbol() -> None:
    statuses = ["success", "failure", "error", "killed", "running", "skipped", "declined", "blocked"]
    shown = bars(parsed([build(index, status) for index, status in enumerate(statuses)][::-1]))
    classes = ["bar-success", "bar-failure", "bar-error", "bar-killed", "bar-running"] + ["bar-other"] * 3
    for bar, status, css_class in zip(shown, statuses, classes, strict=True):
        assert css_class in bar["class"].split()
        assert re.fullmatch(r"#[0-9a-f]{6}", bar["fill"])  # looks right without the stylesheet too
        assert bar["symbol"] == status_icon(status)
    assert len({bar["fill"] for bar in shown[:5]}) == 5


def test_each_bar_has_a_title_with_number_outcome_and_duration() -> None:
    shown = bars(
        parsed([build(13, "running", None), build(12, "success", 63), build(11, Status.WAITING, None)])
    )
    assert [bar["title"] for bar in shown] == ["#11 waiting", "#12 success · 1m 03s", "#13 running"]


def test_the_summary_counts_outcomes_and_names_the_longest() -> None:
    builds = (
        [build(number, "success", 60) for number in range(1, 42)]
        + [build(number, "failure", 190) for number in range(42, 46)]
        + [build(46, "error", 10), build(47, "killed", 20), build(48, "failure", 30)]
        + [build(49, "skipped", None), build(50, "running", 400)]
    )
    root = parsed(builds[::-1])
    assert root.get("role") == "img"
    assert root.get("aria-label") == "last 50 builds: 41 passed, 7 failed, 2 other; longest 3m 10s"
    assert "3m 10s" in [text.text for text in root.iter(f"{SVG}text")]  # the y-axis label


def test_one_build_in_progress() -> None:
    root = parsed([build(1, "running", None)])
    assert root.get("aria-label") == "last 1 build: 0 passed, 0 failed, 1 other"


def test_links_are_escaped() -> None:
    href = '/acme/app/1?a=1&b="<x>"'
    svg = duration_chart_svg([ChartBuild(number=1, status="success", seconds=1, href=href)])
    assert "<x>" not in svg
    assert bars(ET.fromstring(svg))[0]["href"] == href


def test_the_output_is_deterministic() -> None:
    builds = [build(number, seconds=number * 7.3) for number in range(20, 0, -1)]
    assert duration_chart_svg(builds) == duration_chart_svg(list(builds))
