"""The status badge: an SVG that says the outcome in words, safe for any branch name, the same every time."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from pipelines.status import Status
from webui.badge import BADGE_CACHE_CONTROL, badge_svg, text_width

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    """The badge as XML; parsing proves it is well-formed."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def shown_texts(root: ET.Element) -> list[str]:
    """The texts drawn in front (not the shadows, which are hidden from assistive technology)."""
    return [text.text or "" for text in root.iter(f"{SVG}text") if text.get("aria-hidden") != "true"]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.SUCCESS, "passing"),
        (Status.FAILURE, "failing"),
        (Status.ERROR, "error"),
        (Status.KILLED, "killed"),
        (Status.RUNNING, "running"),
        (Status.PENDING, "pending"),
        (Status.WAITING, "pending"),
        (Status.BLOCKED, "pending"),
        (Status.SKIPPED, "skipped"),
        (Status.DECLINED, "declined"),
        (None, "no builds"),
        ("something-new", "unknown"),
    ],
)
def test_the_message_says_the_outcome_in_words(status: str | None, message: str) -> None:
    root = parsed(badge_svg("build", status))
    assert root.get("role") == "img"
    assert root.get("aria-label") == f"build: {message}"
    assert root.findtext(f"{SVG}title") == f"build: {message}"
    assert shown_texts(root) == ["build", message]


def test_a_status_given_as_a_plain_string_is_the_same_badge() -> None:
    assert badge_svg("build", "success") == badge_svg("build", Status.SUCCESS)


def test_passing_and_failing_have_different_colours() -> None:
    def message_fill(svg: str) -> str | None:
        return parsed(svg).findall(f"{SVG}g/{SVG}rect")[1].get("fill")

    fills = {message_fill(badge_svg("build", status)) for status in ("success", "failure", "running")}
    assert len(fills) == 3


def test_branch_names_with_markup_characters_are_escaped() -> None:
    label = 'feature/<script>&"quotes"'
    svg = badge_svg(label, Status.SUCCESS)
    assert "<script>" not in svg
    root = parsed(svg)
    assert root.get("aria-label") == f"{label}: passing"
    assert root.findtext(f"{SVG}title") == f"{label}: passing"
    assert shown_texts(root)[0] == label


def test_control_characters_are_dropped_so_the_svg_stays_valid_xml() -> None:
    root = parsed(badge_svg("main\x00\x1b[31m\n", Status.FAILURE))
    assert root.get("aria-label") == "main[31m: failing"


def test_the_output_is_deterministic() -> None:
    assert badge_svg("release/1.2", Status.FAILURE) == badge_svg("release/1.2", Status.FAILURE)


def test_the_width_is_about_what_shields_io_draws() -> None:
    root = parsed(badge_svg("build", Status.SUCCESS))
    width = int(root.get("width", "0"))
    assert 84 <= width <= 92  # shields.io's "build | passing" is 88 pixels wide
    rects = root.findall(f"{SVG}g/{SVG}rect")
    assert int(rects[0].get("width", "0")) + int(rects[1].get("width", "0")) == width
    assert rects[1].get("x") == rects[0].get("width")


def test_a_longer_label_makes_a_wider_badge_and_each_text_fits_its_part() -> None:
    short = parsed(badge_svg("ci", Status.SUCCESS))
    long = parsed(badge_svg("continuous-integration/main", Status.SUCCESS))
    assert int(long.get("width", "0")) > int(short.get("width", "0")) + 100
    label_rect = long.findall(f"{SVG}g/{SVG}rect")[0]
    label_text = next(text for text in long.iter(f"{SVG}text") if text.text == "continuous-integration/main")
    assert int(label_text.get("textLength", "0")) / 10 < int(label_rect.get("width", "0"))


def test_character_widths_follow_verdana() -> None:
    assert text_width("WWWW") > text_width("iiii") * 3
    assert text_width("0123") == pytest.approx(4 * 7.0, abs=0.1)
    assert text_width("構建") > text_width("ab")  # wide characters count wide
    assert text_width("") == 0


def test_an_empty_label_gives_a_message_only_badge() -> None:
    root = parsed(badge_svg("", Status.SUCCESS))
    assert root.get("aria-label") == "passing"
    assert shown_texts(root) == ["passing"]


def test_badges_are_never_cached() -> None:
    assert BADGE_CACHE_CONTROL == "no-cache, max-age=0"


def test_badges_inlined_in_one_page_do_not_share_ids() -> None:
    def ids(svg: str) -> set[str]:
        return {element.get("id", "") for element in parsed(svg).iter() if element.get("id")}

    passing, failing = badge_svg("build", Status.SUCCESS), badge_svg("build", Status.FAILURE)
    assert len(ids(passing)) == 2
    assert not ids(passing) & ids(failing)
    for svg in (passing, failing):
        assert all(f"url(#{name})" in svg for name in ids(svg))
