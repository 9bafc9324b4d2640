"""Terminal output in the browser: colours as the log viewer's classes, nothing else of the escapes shown."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from webui.ansi import ansi_to_html, strip_ansi, without_sequences, xterm_colour

ESC = "\x1b"

Run = tuple[str, str, str]  # (classes, inline style, text)


def runs(text: str) -> list[Run]:
    """The rendered line(s) as styled runs; parsing also proves every span is closed and nested properly."""
    root = ET.fromstring(f"<pre>{ansi_to_html(text)}</pre>")
    found: list[Run] = [("", "", root.text)] if root.text else []
    for span in root:
        assert span.tag == "span"
        assert len(span) == 0  # spans never nest
        found.append((span.get("class", ""), span.get("style", ""), span.text or ""))
        if span.tail:
            found.append(("", "", span.tail))
    return found


def test_plain_text_is_only_escaped() -> None:
    assert ansi_to_html("make: *** [all] Error 2 && 'done'") == (
        "make: *** [all] Error 2 &amp;&amp; &#39;done&#39;"
    )
    assert ansi_to_html("") == ""


def test_the_result_is_markup_so_templates_do_not_escape_it_twice() -> None:
    assert isinstance(ansi_to_html(f"{ESC}[31mx{ESC}[0m"), Markup)


def test_pytest_summary_line() -> None:
    line = (
        f"{ESC}[32m{ESC}[1m===== 3 passed, {ESC}[0m{ESC}[33m1 warning{ESC}[0m"
        f"{ESC}[32m{ESC}[1m in 0.12s ====={ESC}[0m"
    )
    assert runs(line) == [
        ("ansi-bold ansi-fg-2", "", "===== 3 passed, "),
        ("ansi-fg-3", "", "1 warning"),
        ("ansi-bold ansi-fg-2", "", " in 0.12s ====="),
    ]


def test_cargo_status_word() -> None:
    line = f"{ESC}[0m{ESC}[0m{ESC}[1m{ESC}[32m   Compiling{ESC}[0m hangar v0.1.0 (/src)"
    assert runs(line) == [("ansi-bold ansi-fg-2", "", "   Compiling"), ("", "", " hangar v0.1.0 (/src)")]


def test_npm_warning_resets_the_foreground_with_39() -> None:
    line = f"npm {ESC}[33mWARN{ESC}[39m {ESC}[35mdeprecated{ESC}[39m request@2.88.2"
    assert runs(line) == [
        ("", "", "npm "),
        ("ansi-fg-3", "", "WARN"),
        ("", "", " "),
        ("ansi-fg-5", "", "deprecated"),
        ("", "", " request@2.88.2"),
    ]


@pytest.mark.parametrize(
    ("code", "css_class"),
    [
        ("30", "ansi-fg-0"),
        ("37", "ansi-fg-7"),
        ("90", "ansi-fg-8"),
        ("97", "ansi-fg-15"),
        ("40", "ansi-bg-0"),
        ("47", "ansi-bg-7"),
        ("100", "ansi-bg-8"),
        ("107", "ansi-bg-15"),
        ("38;5;1", "ansi-fg-1"),
        ("38;5;15", "ansi-fg-15"),
        ("48;5;9", "ansi-bg-9"),
        ("38:5:4", "ansi-fg-4"),
        ("1", "ansi-bold"),
        ("2", "ansi-dim"),
        ("3", "ansi-italic"),
        ("4", "ansi-underline"),
    ],
)
def test_sgr_codes_become_the_viewer_classes(code: str, css_class: str) -> None:
    assert runs(f"{ESC}[{code}mx") == [(css_class, "", "x")]


@pytest.mark.parametrize(
    ("index", "colour"),
    [
        (16, "#000000"),
        (21, "#0000ff"),
        (196, "#ff0000"),
        (208, "#ff8700"),
        (231, "#ffffff"),
        (232, "#080808"),
    ],
)
def test_the_xterm_palette(index: int, colour: str) -> None:
    assert xterm_colour(index) == colour
    assert xterm_colour(255) == "#eeeeee"


def test_256_colours_from_16_and_truecolour_are_inline_styles() -> None:
    assert runs(f"{ESC}[38;5;208mx") == [("", "color:#ff8700", "x")]
    assert runs(f"{ESC}[48;5;240mx") == [("", "background-color:#585858", "x")]
    assert runs(f"{ESC}[38;2;255;100;0;48;2;1;2;3mx") == [("", "color:#ff6400;background-color:#010203", "x")]
    assert runs(f"{ESC}[38:2::10:20:30mx{ESC}[38:2:40:50:60my") == [
        ("", "color:#0a141e", "x"),
        ("", "color:#28323c", "y"),
    ]
    assert runs(f"{ESC}[1;31;48;5;100mx") == [("ansi-bold ansi-fg-1", "background-color:#878700", "x")]


def test_codes_that_turn_attributes_off() -> None:
    assert runs(f"{ESC}[1;2;3;4;31;42mA{ESC}[22mB{ESC}[23;24mC{ESC}[39mD{ESC}[49mE") == [
        ("ansi-bold ansi-dim ansi-italic ansi-underline ansi-fg-1 ansi-bg-2", "", "A"),
        ("ansi-italic ansi-underline ansi-fg-1 ansi-bg-2", "", "B"),
        ("ansi-fg-1 ansi-bg-2", "", "C"),
        ("ansi-bg-2", "", "D"),
        ("", "", "E"),
    ]


@pytest.mark.parametrize("reset", ["[0m", "[m", "[;m", "[00m"])
def test_every_spelling_of_reset(reset: str) -> None:
    assert runs(f"{ESC}[1;35mA{ESC}{reset}B") == [("ansi-bold ansi-fg-5", "", "A"), ("", "", "B")]


def test_unknown_sgr_codes_change_nothing() -> None:
    assert runs(f"{ESC}[31mA{ESC}[5;7;9;53;73mB") == [("ansi-fg-1", "", "AB")]


def test_a_code_that_changes_nothing_opens_no_new_span() -> None:
    assert ansi_to_html(f"{ESC}[32mA{ESC}[32mB{ESC}[0m") == '<span class="ansi-fg-2">AB</span>'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"a{ESC}[", [("", "", "a")]),
        (f"a{ESC}[31", [("", "", "a")]),
        (f"{ESC}[38;5mx", [("", "", "x")]),
        (f"{ESC}[38;2;1mx", [("", "", "x")]),
        (f"{ESC}[38;5;300mx", [("", "", "x")]),
        (f"{ESC}[38;2;1;2;999mx", [("", "", "x")]),
        (f"{ESC}[38;5;;31mx", [("ansi-fg-1", "", "x")]),
        (f"{ESC}[38mx", [("", "", "x")]),
        (f"{ESC}[48;7mx", [("", "", "x")]),
        (f"{ESC}[1;38;2;1mx", [("ansi-bold", "", "x")]),
    ],
)
def test_malformed_sequences_show_no_garbage(line: str, expected: list[Run]) -> None:
    assert runs(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"{ESC}[38;5;1:2mcoloured", [("", "", "coloured")]),
        (f"{ESC}[38;2;1;2;3:4mx", [("", "", "x")]),
        (f"{ESC}[48;5;:mx", [("", "", "x")]),
        (f"{ESC}[38;2;300:1;2;3mx", [("", "", "x")]),
        (f"{ESC}[38;2;1:2;3;4mx", [("", "", "x")]),
        (f"{ESC}[1;38;5;1:2;4mx", [("ansi-bold ansi-underline", "", "x")]),  # what follows still counts
        (f"{ESC}[31;48;2;1;2;3:4;1mx", [("ansi-bold ansi-fg-1", "", "x")]),
        (f"{ESC}[38;5;mx", [("", "", "x")]),
        (f"{ESC}[38;2;;;mx", [("", "", "x")]),
        (f"{ESC}[38;2;1;;3mx", [("", "", "x")]),
        (f"{ESC}[38:5:mx", [("", "", "x")]),
        (f"{ESC}[38:2:1::3mx", [("", "", "x")]),
        (f"{ESC}[38;5;256mx", [("", "", "x")]),
        (f"{ESC}[38;2;1;2mx", [("", "", "x")]),
        (f"{ESC}[38;2;1;2;256mx", [("", "", "x")]),
        (f"{ESC}[38;5;99999999999999999999mx", [("", "", "x")]),
        (f"{ESC}[38;2;99999999999999999999;0;0mx", [("", "", "x")]),
        (f"{ESC}[99999999999999999999;32mx", [("ansi-fg-2", "", "x")]),
        (f"{ESC}[00000000000000000031mx", [("ansi-fg-1", "", "x")]),  # leading zeros are no huge number
        (f"{ESC}[38;5;0000000000000000000196mx", [("", "color:#ff0000", "x")]),
        (f"{ESC}[{'9' * 5000};1mx", [("ansi-bold", "", "x")]),  # past Python's int() digit limit
        (f"{ESC}[38;5;{'1' * 5000}mx", [("", "", "x")]),
        (f"{ESC}[1:2:3:4:5:6:7:8mx", [("ansi-bold", "", "x")]),
        (f"{ESC}[:::;;:mx", [("", "", "x")]),
    ],
)
def test_malformed_colour_parameters_are_skipped_without_an_error(line: str, expected: list[Run]) -> None:
    assert runs(line) == expected
    assert strip_ansi(line) == expected[0][2]


@pytest.mark.parametrize(
    "sequence",
    [
        f"{ESC}[2K",
        f"{ESC}[1A",
        f"{ESC}[?25l",
        f"{ESC}[?2004h",
        f"{ESC}[>4;2m",
        f"{ESC}[1 q",
        f"{ESC}]0;title — build #12{chr(7)}",
        f"{ESC}]2;title{ESC}\\",
        f"{ESC}(B",
        f"{ESC}7",
        f"{ESC}M",
        f"{ESC}=",
        ESC,
        chr(7),
        "\b",
        "\x9b2K",
    ],
)
def test_other_escape_sequences_and_control_characters_are_removed(sequence: str) -> None:
    assert ansi_to_html(f"before{sequence}after") == "beforeafter"
    assert strip_ansi(f"before{sequence}after") == "beforeafter"


def test_a_stray_escape_character_takes_no_text_with_it() -> None:
    assert strip_ansi(f"{ESC}error: {ESC} bad {ESC}cargo{ESC}") == "error:  bad cargo"
    assert strip_ansi(f"{ESC}c\n{ESC}c {ESC}c1") == "\n 1"  # a terminal reset (RIS) on its own


def test_the_eight_bit_csi_is_understood_too() -> None:
    assert runs("\x9b31mred") == [("ansi-fg-1", "", "red")]


def test_terminal_hyperlinks_keep_their_text() -> None:
    line = f"see {ESC}]8;;https://example.com/{ESC}\\the docs{ESC}]8;;{ESC}\\ now"
    assert ansi_to_html(line) == "see the docs now"


def test_an_unterminated_osc_string_swallows_only_the_rest_of_its_line() -> None:
    assert strip_ansi(f"a{ESC}]0;never ended\nnext line") == "a\nnext line"


def test_carriage_returns_keep_what_a_terminal_would_show_last() -> None:
    assert strip_ansi("Downloading  10%\rDownloading  55%\rDownloading 100%") == "Downloading 100%"
    assert strip_ansi("windows line\r\nnext\r\n") == "windows line\nnext\n"
    assert strip_ansi("done\r\r") == "done"
    assert strip_ansi(f"spinner |\r{ESC}[2Kfinished\r{ESC}[0m") == "finished"


def test_colour_set_before_a_carriage_return_still_applies_after_it() -> None:
    line = f"{ESC}[32m 40% ####\r 100% ##########{ESC}[0m"
    assert runs(line) == [("ansi-fg-2", "", " 100% ##########")]


def test_colours_carry_over_lines_with_each_line_closed_on_its_own() -> None:
    html = ansi_to_html(f"{ESC}[1;31merror: first\n  second{ESC}[0m\nplain\n")
    assert html.split("\n") == [
        '<span class="ansi-bold ansi-fg-1">error: first</span>',
        '<span class="ansi-bold ansi-fg-1">  second</span>',
        "plain",
        "",
    ]


@pytest.mark.parametrize(
    "text",
    [
        f"{ESC}[31m<script>alert(1)</script>{ESC}[0m",
        f"<script>{ESC}[1m</script>",
        f"{ESC}[38;5;1m<img src=x onerror=alert(1)>",
        f'{ESC}]0;<script>alert(1)</script>{chr(7)}"><b>x</b>',
        f"{ESC}[<script>m",
    ],
)
def test_html_in_the_log_stays_text(text: str) -> None:
    html = ansi_to_html(text)
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    root = ET.fromstring(f"<pre>{html}</pre>")
    assert all(element.tag == "span" for element in root)
    assert "".join(root.itertext()) == strip_ansi(text)


def test_strip_ansi_gives_the_plain_text_for_search() -> None:
    log = (
        f"{ESC}[1m{ESC}[31mFAILED{ESC}[0m tests/test_x.py::test_y - {ESC}[31mAssertionError{ESC}[0m <1 != 2>"
    )
    assert strip_ansi(log) == "FAILED tests/test_x.py::test_y - AssertionError <1 != 2>"


_PIECES = st.sampled_from(
    [
        ESC,
        "[",
        "]",
        ";",
        ":",
        "m",
        "38",
        "48",
        "5",
        "2",
        "1",
        "31",
        "0",
        "\r",
        "\n",
        "\x07",
        "\\",
        "<",
        "&",
        '"',
        "K",
        "A",
        "?",
        "(",
        "B",
        "x",
        " ",
        "é",
        "\t",
    ]
)


_SGR_PARAMETERS = st.lists(
    st.one_of(
        st.sampled_from(
            ["", "0", "1", "4", "31", "38", "48", "5", "2", "255", "256", "99999999999999999999"]
        ),
        st.sampled_from(["38;5", "48;5", "38;2", "48;2;1", "38;2;1;2"]),  # a colour the next part completes
        st.from_regex(r"[0-9]{0,3}(:[0-9]{0,3}){1,5}", fullmatch=True),  # sub-parameters, stray colons
    ),
    max_size=8,
).map(";".join)
_SGR = _SGR_PARAMETERS.map(lambda params: f"{ESC}[{params}m")
"""Whole SGR sequences, well-formed or not: colour parameters with `:` in any place, empty and huge parts."""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, _SGR), max_size=40).map("".join))
def test_any_input_gives_well_formed_html_whose_text_is_the_stripped_text(text: str) -> None:
    html = ansi_to_html(text)
    assert ESC not in html
    assert "\r" not in html
    root = ET.fromstring(f"<pre>{html}</pre>")
    assert all(element.tag == "span" and len(element) == 0 for element in root)
    assert "".join(root.itertext()) == strip_ansi(text)
    assert html.count("\n") == text.count("\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, _SGR), max_size=40).map("".join))
def test_the_quick_removal_holds_each_lines_stripped_text(text: str) -> None:
    quick = without_sequences(text)
    for line in text.split("\n"):
        assert strip_ansi(line) in quick


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.one_of(_PIECES, _SGR, st.sampled_from([ESC, "\x9b", "\r", "[2K", "\x07"])), max_size=40).map(
        "".join
    )
)
def test_the_quick_removal_removes_what_the_full_pattern_removes(text: str) -> None:
    from webui.ansi import _SEQUENCE

    assert without_sequences(text) == _SEQUENCE.sub("", text)
