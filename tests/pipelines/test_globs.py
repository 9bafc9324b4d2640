from __future__ import annotations

import time
from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.globs import glob_error, glob_match

# Real-world Drone conditions: branch, ref, repo, paths, event...
REAL_WORLD = [
    ("main", "main", True),
    ("main", "Main", False),
    ("main", "main2", False),
    ("feature/*", "feature/login", True),
    ("feature/*", "feature/login/oauth", False),
    ("feature/*", "feature", False),
    ("feature/*", "feature/", True),
    ("feature/**", "feature/login/oauth", True),
    ("release/**", "release/1.0", True),
    ("release/**", "release/1.0/hotfix", True),
    ("release/**", "release", True),
    ("release/**", "releases/1.0", False),
    ("release/*", "release", False),
    ("refs/tags/v*", "refs/tags/v1.2.3", True),
    ("refs/tags/v*", "refs/tags/1.2.3", False),
    ("refs/tags/v*", "refs/tags/v1/rc", False),
    ("refs/tags/**", "refs/tags/v1/rc", True),
    ("refs/heads/{main,master}", "refs/heads/main", True),
    ("refs/heads/{main,master}", "refs/heads/master", True),
    ("refs/heads/{main,master}", "refs/heads/mainline", False),
    ("refs/heads/{main,master}", "refs/heads/develop", False),
    ("refs/pull/*/head", "refs/pull/42/head", True),
    ("refs/pull/*/head", "refs/pull/42/merge", False),
    ("*.md", "README.md", True),
    ("*.md", "docs/README.md", False),
    ("*.md", ".md", True),
    ("docs/**", "docs/a/b.md", True),
    ("docs/**", "docs/index.md", True),
    ("docs/**", "docs", True),
    ("docs/**", "docs/", True),
    ("docs/**", "documentation/index.md", False),
    ("docs/**", "src/docs/index.md", False),
    ("**/*.go", "main.go", True),
    ("**/*.go", "cmd/server/main.go", True),
    ("**/*.go", "cmd/server/main.go.orig", False),
    ("**/*.go", "cmd/server/", False),
    ("**/*.md", "a.md", True),
    ("**/*.md", "x/y/a.md", True),
    ("src/**/*_test.go", "src/pkg/a/b_test.go", True),
    ("src/**/*_test.go", "src/b_test.go", True),
    ("src/**/*_test.go", "src/b.go", False),
    ("octocat/*", "octocat/hello-world", True),
    ("octocat/*", "octocat/hello/world", False),
    ("octocat/*", "github/hello-world", False),
    ("*/*", "octocat/hello-world", True),
    ("push", "push", True),
    ("pull_request", "push", False),
    ("{push,tag}", "tag", True),
    ("v[0-9]*", "v2.0", True),
    ("v[0-9]*", "vx", False),
    ("hotfix-?", "hotfix-1", True),
    ("hotfix-?", "hotfix-12", False),
    ("*", "", True),
    ("*", "main", True),
    ("*", "feature/x", False),
    ("**", "feature/x/y", True),
    ("**", "", True),
]

# Each feature, checked against bmatcuk/doublestar v4's own Match table.
DOUBLESTAR = [
    ("", "", True),
    ("", "a", False),
    ("abc", "abc", True),
    ("*", "/", False),
    ("/*", "/", True),
    ("/*", "/debug/", False),
    ("/*", "//", False),
    ("*/", "a/", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*/c/", "a/b", False),
    ("a*b*c*d*e*", "axbxcxdxe", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("*x", "xxx", True),
    # ? is one character (a code point), never /
    ("a?b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("?", "", False),
    # character classes
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a[^a]b", "a☺b", True),
    ("a[!a]b", "a☺b", True),
    ("a[!a]b", "aab", False),
    ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False),
    ("[abc]", "b", True),
    ("[abc123]", "1", True),
    ("[a-z0-9]", "1", True),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    ("[-]", "-", True),
    ("[x-]", "x", True),
    ("[x-]", "-", True),
    ("[x-]", "z", False),
    ("[-x]", "-", True),
    ("[-x]", "a", False),
    ("[a-b-d]", "b", True),
    ("[a-b-d]", "-", True),
    ("[a-b-d]", "c", False),
    ("[a-b-x]", "x", True),
    ("[z-a]", "z", True),
    ("[z-a]", "m", False),
    ("[#-\\]]", "]", True),
    ("[a-\\]]", "]", False),
    ("[!a]", "/", False),
    ("[^a]", "/", False),
    ("[/]", "/", False),
    ("e/[\\*\\?]", "e/*", True),
    ("e/[\\*\\?]", "e/**", False),
    ("e/[\\*\\?]?", "e/**", True),
    ("e/]", "e/]", True),
    # doublestar
    ("**", "", True),
    ("a/**", "a", True),
    ("a/**/", "a", True),
    ("a/**", "a/", True),
    ("a/**/", "a/", True),
    ("a/**/", "a/b", False),
    ("a/**/", "a/b/", True),
    ("a/**", "a/b/c", True),
    ("/**", "", True),
    ("**/", "", True),
    ("**/", "a", False),
    ("**/c", "c", True),
    ("**/c", "b/c", True),
    ("**/c", "a/b/c", True),
    ("**/c", "/c", True),
    ("**/c", "a/b", False),
    ("**/c", "abcd", False),
    ("**/c", "a/abc", False),
    ("a/**/b", "a/b", True),
    ("a/**/c", "a/b/c", True),
    ("a/**/d", "a/b/c/d", True),
    ("a/**/b/**/c", "a/b/c", True),
    ("a/**/b/**/c", "a/x/b/y/z/c", True),
    ("a/**/b/**/c", "a/x/c", False),
    ("**/a/**/b", "a/a/c/b", True),
    ("**/a/**", "x/a", True),
    ("**/a/**", "a/a", True),
    ("**/a/**/", "a/a", True),
    ("**/a/*b", "a/a/xb", True),
    ("abc/**", "abc/b", True),
    ("**/abc", "abc", True),
    ("abc**", "abc", True),
    ("abc**", "abc/b", False),
    ("**abc", "abc", True),
    ("**abc", "x/abc", False),
    ("a**/b", "axx/b", True),
    ("a**/b", "a/x/b", False),
    ("***", "abc", True),
    ("***", "a/b", False),
    ("**/*.txt", "abc/【test】.txt", True),
    ("**/【*", "abc/【test】.txt", True),
    ("a/*/*/d", "a/b/c/d", True),
    ("a/b/c", "a/b//c", False),
    ("a/", "a", False),
    # alternatives
    ("ab{c,d}", "abc", True),
    ("ab{c,d,*}", "abcde", True),
    ("a{,bc}", "a", True),
    ("a{,bc}", "abc", True),
    ("a/{b/c,c/b}", "a/b/c", True),
    ("a/{b/c,c/b}", "a/c/b", True),
    ("a/a*{b,c}", "a/abc", True),
    ("{a/{b,c},abc}", "a/b", True),
    ("{a/{b,c},abc}", "a/c", True),
    ("{a/{b,c},abc}", "abc", True),
    ("{a/{b,c},abc}", "a/b/c", False),
    ("{a/ab*}", "a/abc", True),
    ("{a/*}", "a/b", True),
    ("{a/b,a/c}", "a/c", True),
    ("**/{a,b}", "a/b", True),
    ("e/**/{z,other}", "e/[x]/[y]/z", True),
    ("{docs,src}/**", "docs", True),
    ("{docs,src}/**", "src/a/b", True),
    ("{**/*.md,*.txt}", "a/b/c.md", True),
    ("{**/*.md,*.txt}", "a/b/c.txt", False),
    ("{}", "", True),
    ("a{}b", "ab", True),
    ("{a,b}{c,d}", "bd", True),
    ("{a,b}{c,d}", "ba", False),
    ("x,y", "x,y", True),
    # escapes
    ("a\\*b", "ab", False),
    ("a\\*b", "a*b", True),
    ("a/\\**", "a/b/c", False),
    ("a/\\**", "a/*bc", True),
    ("a/\\[*\\]", "a/bc", False),
    ("a/\\[*\\]", "a/[bc]", True),
    ("e/\\[x\\]/*", "e/[x]/[y]", True),
    ("f/\\{a,b\\}/{c,other*}", "f/{a,b}/c", True),
    ("f/\\*/{a,other*}", "f/*/a", True),
    ("e/{\\*,\\?}", "e/?", True),
    ("e/\\?", "e/**", False),
    ("*\\}", "}", True),
    ("\\a\\b", "ab", True),
    ("a\\/b", "a/b", True),
    ("a\\\\b", "a\\b", True),
    # no dotfile or case special cases, and newlines are ordinary characters
    ("hidden/.*", "hidden/.file", True),
    ("hidden/*", "hidden/.file", True),
    ("case/fi*", "case/FILE", False),
    ("a*b", "a\nb", True),
    ("a?b", "a\nb", True),
]

INVALID = [
    ("[", "'[' at offset 0 is never closed"),
    ("[^", "'[' at offset 0 is never closed"),
    ("[^bc", "'[' at offset 0 is never closed"),
    ("a[", "'[' at offset 1 is never closed"),
    ("ad[", "'[' at offset 2 is never closed"),
    ("[a-", "'[' at offset 0 is never closed"),
    ("[a-\\", "'[' at offset 0 is never closed"),
    ("[\\]", "'[' at offset 0 is never closed"),
    ("[]a]", "empty character class at offset 0"),
    ("x[!]", "empty character class at offset 1"),
    ("[^]", "empty character class at offset 0"),
    ("\\", "the pattern ends with an unfinished escape '\\'"),
    ("main\\", "the pattern ends with an unfinished escape '\\'"),
    ("{main,master", "'{' at offset 0 is never closed"),
    ("refs/heads/{a,{b,c}", "'{' at offset 11 is never closed"),
    ("main}", "'}' at offset 4 closes no '{'"),
    ("{a}}", "'}' at offset 3 closes no '{'"),
    ("ab{c,d}[", "'[' at offset 7 is never closed"),
    ("{" * 40 + "}" * 40, "'{' at offset 32 nests deeper than 32 levels"),
]


def glob_escape(text: str) -> str:
    """A pattern that matches exactly ``text``."""
    return "".join("\\" + char if char in "*?[]{},\\" else char for char in text)


def reference_match(pattern: str, name: str) -> bool:
    """An independent matcher for brace-free patterns, one path segment at a time: a ``**`` segment takes any
    number of whole segments (all the rest when it is last), other segments use fnmatch (whose ``*`` and ``?``
    never see a ``/`` here), and a name may stop short of a trailing ``/**`` or ``/**/``."""
    patterns, names = pattern.split("/"), name.split("/")

    def match(i: int, j: int) -> bool:
        if j == len(names):
            return patterns[i:] in ([], ["**"], ["**", ""])
        if i == len(patterns):
            return False
        if patterns[i] == "**":
            return i == len(patterns) - 1 or any(match(i + 1, k) for k in range(j, len(names)))
        return fnmatchcase(names[j], patterns[i]) and match(i + 1, j + 1)

    return match(0, 0)


@pytest.mark.parametrize(("pattern", "name", "expected"), REAL_WORLD + DOUBLESTAR)
def test_glob_match(pattern: str, name: str, expected: bool) -> None:
    assert glob_match(pattern, name) is expected


@pytest.mark.parametrize(("pattern", "name", "expected"), REAL_WORLD + DOUBLESTAR)
def test_valid_patterns_have_no_error(pattern: str, name: str, expected: bool) -> None:
    assert glob_error(pattern) is None


@pytest.mark.parametrize(("pattern", "reason"), INVALID)
def test_invalid_patterns_explain_why_and_match_nothing(pattern: str, reason: str) -> None:
    assert glob_error(pattern) == reason
    for name in (pattern, "", "a", "ab", "abcd", "main", "main}", "[", "{main,master", "refs/heads/a"):
        assert glob_match(pattern, name) is False


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("*a*a*a*a*a*a*a*a*a*a*a*a*b", "a" * 300),
        ("**/a/**/a/**/a/**/a/**/a/**/a/**/b", "a/" * 150 + "c"),
        ("**/a*a*a*a/**/a*a*a*a/**/b", "aaaaaaaa/" * 60 + "c"),
        ("*a*a*a*a*a*a*a*a/x", "a" * 300),
        ("**/a**a/**/a**a/**/a**a/**/a**a/**/b", "aa/" * 100 + "c"),
    ],
)
def test_pathological_patterns_stay_fast(pattern: str, name: str) -> None:
    started = time.perf_counter()
    assert glob_match(pattern, name) is False
    assert time.perf_counter() - started < 1.0


@given(st.text())
def test_escaped_text_matches_exactly_itself(text: str) -> None:
    assert glob_error(glob_escape(text)) is None
    assert glob_match(glob_escape(text), text)
    assert not glob_match(glob_escape(text), text + "x")
    if not any(char in "*?[{}\\" for char in text):
        assert glob_match(text, text)


@given(st.text(alphabet=st.sampled_from("ab*?[]{},!^-\\/\n☺")), st.text())
def test_never_raises_and_invalid_patterns_never_match(pattern: str, name: str) -> None:
    matched = glob_match(pattern, name)
    assert isinstance(matched, bool)
    if glob_error(pattern) is not None:
        assert matched is False


@given(st.lists(st.sampled_from(["a", "b", "*", "**", "?", "/", "[ab]", "[!a]"]), max_size=9).map("".join))
def test_agrees_with_a_segment_by_segment_reference(pattern: str) -> None:
    for name in (
        "",
        "a",
        "b",
        "ab",
        "ba",
        "a/",
        "/a",
        "a/b",
        "ab/ba",
        "a/b/a",
        "a//b",
        "b/a/ab/b",
        "a/a/a/b/",
    ):
        assert glob_match(pattern, name) == reference_match(pattern, name), (pattern, name)


@given(
    st.lists(st.sampled_from(["a", "b", "*", "**", "?", "/"]), max_size=6).map("".join),
    st.lists(st.sampled_from(["a", "b", "*", "**", "?", "/"]), max_size=6).map("".join),
    st.lists(st.sampled_from(["a", "b", "/"]), max_size=8).map("".join),
)
def test_alternatives_match_either_side(left: str, right: str, name: str) -> None:
    either = glob_match(left, name) or glob_match(right, name)
    assert glob_match("{" + left + "," + right + "}", name) == either
