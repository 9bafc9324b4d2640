"""Tests for pipelines.substitute (Drone-compatible ${VAR} substitution)."""

from __future__ import annotations

import fnmatch
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.substitute import SubstitutionError, check, substitute

ENV: dict[str, str] = {
    "NAME": "world",
    "EMPTY": "",
    "MIXED": "abcdEFGH28ij",
    "UPPER": "ABCDEFGH28IJ",
    "PATH_NAME": "/home/bozo/ideas/thoughts.for.today",
    "FILE": "bash.string.txt",
    "REL": "path/to/file",
    "ABS": "/path/to/file",
    "STRZ": "abcABC123ABCabc",
    "DIGITS": "123456789123456789",
    "SLASHY": "foo/bar/baz",
    "DOTTED": "foo.bar",
    "UNI": "héllo wörld",
    "CJK": "日本語",
    "BRACE": "a}b",
    "DOLLAR": "$HOME ${HOME}",
    "MULTI": "line1\nline2",
    "STAR": "a*b*c",
    "N": "3",
    "DEF": "fallback",
    "BRANCH": "feature/login-page",
    "COMMIT": "0123456789abcdef0123456789abcdef01234567",
    "DRONE_TAG": "v1.2.3",
    "_under": "u",
    "1": "one",
}


def lookup(name: str) -> str | None:
    """Look a name up in ENV."""
    return ENV.get(name)


CASES: list[tuple[str, str]] = [
    # plain text and escapes
    ("", ""),
    ("no dollars at all", "no dollars at all"),
    ("$", "$"),
    ("a $ b", "a $ b"),
    ("cost: 5$", "cost: 5$"),
    ("$NAME", "$NAME"),
    ("echo $NAME $HOME", "echo $NAME $HOME"),
    ("$$", "$"),
    ("$$$", "$$"),
    ("$$$$", "$$"),
    ("$${NAME}", "${NAME}"),
    ("$$NAME", "$NAME"),
    ("$$${NAME}", "$world"),
    (
        "some text ${MIXED}$${var$${MIXED}$MIXED${MIXED}",
        "some text abcdEFGH28ij${var${MIXED}$MIXED" + "abcdEFGH28ij",
    ),
    ("{NAME}", "{NAME}"),
    ("}text", "}text"),
    ("http://github.com", "http://github.com"),
    (r"\\.\pipe\pipename", r"\\.\pipe\pipename"),
    (r"\\ hello ${#NAME} world \\", r"\\ hello 5 world \\"),
    (r"a\/b ${NAME}", r"a\/b world"),
    ("$(pwd) ${NAME}", "$(pwd) world"),
    # simple variables
    ("${NAME}", "world"),
    ("hello ${NAME}!", "hello world!"),
    ("${NAME}${NAME}", "worldworld"),
    ("${_under}", "u"),
    ("${1}", "one"),
    ("${UNKNOWN}", ""),
    ("a${UNKNOWN}b", "ab"),
    ("${EMPTY}", ""),
    ("${UNI}", "héllo wörld"),
    ("${BRACE}", "a}b"),
    ("${BRACE}}", "a}b}"),
    ("${DOLLAR}", "$HOME ${HOME}"),
    ("x: ${MULTI}", "x: line1\nline2"),
    ("line one ${NAME}\nline two ${N}\n", "line one world\nline two 3\n"),
    ("name: ${DRONE_TAG##v}", "name: 1.2.3"),
    # length
    ("${#MIXED}", "12"),
    ("${#EMPTY}", "0"),
    ("${#UNKNOWN}", "0"),
    ("${#UNI}", "11"),
    ("${#CJK}", "3"),
    # case
    ("${MIXED^}", "AbcdEFGH28ij"),
    ("${MIXED^^}", "ABCDEFGH28IJ"),
    ("${UPPER,}", "aBCDEFGH28IJ"),
    ("${UPPER,,}", "abcdefgh28ij"),
    ("${EMPTY^}", ""),
    ("${UNKNOWN,,}", ""),
    ("${CJK^^}", "日本語"),
    ("${UNI^^}", "HÉLLO WÖRLD"),
    ("${UNI^}", "Héllo wörld"),
    # substring
    ("${PATH_NAME:11}", "ideas/thoughts.for.today"),
    ("${PATH_NAME:11:5}", "ideas"),
    ("${DIGITS:0:8}", "12345678"),
    ("${DIGITS:1:8}", "23456789"),
    ("${DIGITS:9}", "123456789"),
    ("${DIGITS:9:50}", "123456789"),
    ("${DIGITS:-3:2}", "123456789123456789"),  # ":-" is the default operator, as in bash
    ("${DIGITS: -3:2}", "78"),
    ("${DIGITS: -300:3}", "123"),
    ("${DIGITS:+3}", "3"),  # ":+" is the alternate-value operator, not an offset
    ("${NAME:99}", ""),
    ("${NAME:5}", ""),
    ("${NAME:9:1}", ""),
    ("${NAME:0:0}", ""),
    ("${NAME:1:-1}", "orl"),
    ("${NAME:0:-9}", ""),
    ("${NAME:3:-3}", ""),
    ("${NAME:x}", "world"),
    ("${NAME:1:y}", "world"),
    ("${NAME:1.5}", "world"),
    ("${NAME:+1}", "1"),
    ("${NAME:${N}}", "ld"),
    ("${NAME:${N}:1}", "l"),
    ("${NAME:1:${N}}", "orl"),
    ("${UNI:1:4}", "éllo"),
    ("${CJK:-1}", "日本語"),
    ("${CJK: -1}", "語"),
    ("${COMMIT:0:8}", "01234567"),
    ("${UNKNOWN:2}", ""),
    ("${NAME:99999999999999999999999}", "world"),
    # trim prefix / suffix
    ("${FILE#*.}", "string.txt"),
    ("${FILE##*.}", "txt"),
    ("${FILE%.*}", "bash.string"),
    ("${FILE%%.*}", "bash"),
    ("${REL#*/}", "to/file"),
    ("${ABS#*/}", "path/to/file"),
    ("${REL##*/}", "file"),
    ("${ABS##*/}", "file"),
    ("${REL%/*}", "path/to"),
    ("${REL%%/*}", "path"),
    ("${FILE#bash}", ".string.txt"),
    ("${FILE#nomatch}", "bash.string.txt"),
    ("${FILE%txt}", "bash.string."),
    ("${FILE#?}", "ash.string.txt"),
    ("${FILE%???}", "bash.string."),
    ("${FILE#[a-c]}", "ash.string.txt"),
    ("${FILE#[^a-c]}", "bash.string.txt"),
    ("${FILE##[ab]*[.]}", "txt"),
    ("${FILE%[.]*}", "bash.string"),
    ("${FILE#*}", "bash.string.txt"),
    ("${FILE##*}", ""),
    ("${FILE%%*}", ""),
    ("${STAR#*\\*}", "b*c"),
    ("${STAR##*\\*}", "c"),
    ("${STAR%\\**}", "a*b"),
    ("${FILE#[}", "bash.string.txt"),
    ("${FILE#[]}", "bash.string.txt"),
    ("${FILE#[!]}", "bash.string.txt"),
    ("${FILE#[!a]}", "ash.string.txt"),
    ("${FILE#\\b}", "ash.string.txt"),
    ("${FILE%[tx][tx][tx]}", "bash.string."),
    ("${FILE%%[.-/]*}", "bash"),
    ("${BRACE#[]]}", "a}b"),
    ("${STAR%[*]c}", "a*b"),
    ("${FILE#**.}", "string.txt"),
    ("${FILE#\\}", "bash.string.txt"),
    ("${FILE#[z-a]}", "bash.string.txt"),
    ("${FILE#${FILE%%.*}.}", "string.txt"),
    ("${BRANCH##*/}", "login-page"),
    ("${DRONE_TAG#v}", "1.2.3"),
    ("${UNI#h?}", "llo wörld"),
    ("${MULTI#*\n}", "line2"),
    ("${UNKNOWN#x}", ""),
    ("${FILE#$}", "bash.string.txt"),
    ("${FILE#$%:*{}", "bash.string.txt"),
    # replace (literal, not glob)
    ("${STRZ/%abc/XYZ}", "abcABC123ABCXYZ"),
    ("${STRZ/#abc/XYZ}", "XYZABC123ABCabc"),
    ("${STRZ//abc/xyz}", "xyzABC123ABCxyz"),
    ("${STRZ/abc/xyz}", "xyzABC123ABCabc"),
    ("${STRZ/#ABC/XYZ}", "abcABC123ABCabc"),
    ("${STRZ/%ABC/XYZ}", "abcABC123ABCabc"),
    ("${STRZ/abc}", "ABC123ABCabc"),
    ("${STRZ//abc}", "ABC123ABC"),
    ("${STRZ//abc/}", "ABC123ABC"),
    ("${STRZ//}", "abcABC123ABCabc"),
    ("${STRZ///x}", "abcABC123ABCabc"),
    ("${STRZ/nomatch/x}", "abcABC123ABCabc"),
    ("${SLASHY/\\//-}", "foo-bar/baz"),
    ("${SLASHY//\\//-}", "foo-bar-baz"),
    ("${SLASHY//\\//\\\\}", "foo\\bar\\baz"),
    ("${SLASHY//o/a/b}", "fa/ba/b/bar/baz"),  # the replacement runs up to the closing brace
    ("${DOTTED/./}", "foobar"),
    ("${STAR//*/+}", "a+b+c"),
    ("${BRANCH//\\//-}", "feature-login-page"),
    ("${SLASHY//${N}/x}", "foo/bar/baz"),
    ("${NAME/o/${N}}", "w3rld"),
    ("${NAME/o/$$}", "w$rld"),
    ("${UNI//ö/oe}", "héllo woerld"),
    ("${UNKNOWN/a/b}", ""),
    # defaults
    ("${NAME=abc}", "world"),
    ("${UNKNOWN=xyz}", "xyz"),
    ("${EMPTY=xyz}", "xyz"),
    ("${UNKNOWN:=xyz}", "xyz"),
    ("${EMPTY:=xyz}", "xyz"),
    ("${NAME:=xyz}", "world"),
    ("${UNKNOWN:-xyz}", "xyz"),
    ("${EMPTY:-xyz}", "xyz"),
    ("${NAME:-xyz}", "world"),
    ("${UNKNOWN:?xyz}", "xyz"),
    ("${NAME:?xyz}", "world"),
    ("${UNKNOWN-xyz}", "xyz"),
    ("${EMPTY-xyz}", ""),
    ("${NAME-xyz}", "world"),
    ("${UNKNOWN:-}", ""),
    ("${UNKNOWN=}", ""),
    ("${UNKNOWN:-a b:c/d#e%f}", "a b:c/d#e%f"),
    ("${UNKNOWN:-{x}", "{x"),
    ("${UNKNOWN:-x}y}", "xy}"),
    ("${UNKNOWN:-$}", "$"),
    ("${UNKNOWN:-$HOME}", "$HOME"),
    ("${UNKNOWN:-$$}", "$"),
    ("${UNKNOWN:-$${NAME}}", "${NAME}"),  # "$$" is a literal "$", so the word is "${NAME" and "}" is text
    ("${UNKNOWN:-héllo}", "héllo"),
    ("${UNKNOWN:-line1\nline2}", "line1\nline2"),
    ("something ${var=${DEF}}", "something fallback"),
    ("foo: ${var=${DEF}-suffix}", "foo: fallback-suffix"),
    ("foo: ${var=prefix${DEF}-suffix}", "foo: prefixfallback-suffix"),
    ("${var=prefix${DEF} suffix}", "prefixfallback suffix"),
    ("${var=${MIXED^^}}", "ABCDEFGH28IJ"),
    ("${A:-${B:-${C:-deep}}}", "deep"),
    ("${A:-${B:-${NAME}}}", "world"),
    ("${NAME:-${UNKNOWN_NOT_NEEDED:-x}}", "world"),
    ("something $${var=${DEF}}", "something ${var=fallback}"),
    # alternate values
    ("${NAME:+alt}", "alt"),
    ("${EMPTY:+alt}", ""),
    ("${UNKNOWN:+alt}", ""),
    ("${NAME+alt}", "alt"),
    ("${EMPTY+alt}", "alt"),
    ("${UNKNOWN+alt}", ""),
    ("${NAME:+${DEF}!}", "fallback!"),
    # several expressions, mixed with shell syntax
    ("docker build -t ${NAME}:${DRONE_TAG#v} .", "docker build -t world:1.2.3 ."),
    ('if [ -n "$X" ]; then echo ${NAME^}; fi', 'if [ -n "$X" ]; then echo World; fi'),
    ("${NAME}/${UNKNOWN}/${EMPTY:-e}", "world//e"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_substitute(text: str, expected: str) -> None:
    """Each form expands as drone/envsubst (or bash, where documented) does."""
    assert substitute(text, lookup) == expected
    check(text)


ERRORS: list[tuple[str, int]] = [
    ("${", 0),
    ("abc ${", 4),
    ("${NAME", 0),
    ("x ${NAME:-abc", 2),
    ("${NAME:1", 0),
    ("${NAME:1:2", 0),
    ("${NAME/a/b", 0),
    ("${NAME/a", 0),
    ("${NAME#a", 0),
    ("${#NAME", 0),
    ("${}", 0),
    ("a ${}", 2),
    ("${ NAME}", 0),
    ("${NAME }", 0),
    ("${-x}", 0),
    ("${#}", 0),
    ("${#NAME:1}", 0),
    ("${#-}", 0),
    ("${NAME.x}", 0),
    ("${NAME?x}", 0),
    ("${NAME!}", 0),
    ("${NAME@Q}", 0),
    ("${NAME^x}", 0),
    ("${NAME,,,}", 0),
    ("${NAME,^}", 0),
    ("${NAME:}", 0),
    ("${NAME::2}", 0),
    ("${NAME:1:}", 0),
    ("${!NAME}", 0),
    ("ok ${NAME} ${UNKNOWN:-${}}", 22),
    ("${A:-${B:-${C}", 5),
    ("${A:-x} ${B", 8),
    ("héllo ${", 6),
    ("line1\nline2 ${BAD", 12),
    ("$${ok} ${", 7),
    ("${" + "A:-${" * 40 + "x" + "}" * 41, 5 * 32),  # the first expression nested too deeply
]


@pytest.mark.parametrize(("text", "offset"), ERRORS)
def test_malformed(text: str, offset: int) -> None:
    """Malformed expressions raise SubstitutionError pointing at the offending `$`."""
    with pytest.raises(SubstitutionError) as info:
        substitute(text, lookup)
    assert info.value.offset == offset
    assert text[offset] == "$"
    assert info.value.reason
    assert str(offset) in str(info.value)
    with pytest.raises(SubstitutionError) as again:
        check(text)
    assert again.value.offset == offset


def test_error_is_value_error_and_picklable() -> None:
    """SubstitutionError is a ValueError carrying offset and reason, and survives pickling."""
    error = SubstitutionError(3, "missing variable name")
    assert isinstance(error, ValueError)
    assert (error.offset, error.reason) == (3, "missing variable name")
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.offset, clone.reason) == (3, "missing variable name")


def test_unterminated_reason() -> None:
    """The reason says what is wrong."""
    with pytest.raises(SubstitutionError, match="unterminated"):
        check("${NAME")
    with pytest.raises(SubstitutionError, match="missing variable name"):
        check("${}")


def test_check_does_not_look_up() -> None:
    """check() parses only."""
    check("${NAME} ${A:-${B}} $${C} ${D//x/y} ${#E}")


def test_fast_path_returns_same_object_without_lookup() -> None:
    """Text without `$` is returned as is and lookup is never called."""
    text = "plain: text\n" * 10_000

    def boom(name: str) -> str | None:
        raise AssertionError(name)

    assert substitute(text, boom) is text
    check(text)


def test_text_without_expressions_never_looks_up() -> None:
    """`$VAR`, `$$` and a lone `$` do not call lookup."""

    def boom(name: str) -> str | None:
        raise AssertionError(name)

    assert substitute("$HOME $$ $ $${X}", boom) == "$HOME $ $ ${X}"


def test_lookup_only_called_for_needed_defaults() -> None:
    """Default words are only evaluated when used."""
    seen: list[str] = []

    def record(name: str) -> str | None:
        seen.append(name)
        return ENV.get(name)

    assert substitute("${NAME:-${OTHER}}", record) == "world"
    assert seen == ["NAME"]


def test_value_is_not_reparsed() -> None:
    """Substituted values are inserted verbatim, never expanded again."""
    assert substitute("${X}", {"X": "${NAME} $$ ${"}.get) == "${NAME} $$ ${"


def test_large_document() -> None:
    """A few hundred KB with many expressions substitutes correctly."""
    line = "  - echo ${NAME} ${DRONE_TAG#v} $HOME $${KEEP} ${UNKNOWN:-d}\n"
    text = line * 5_000
    expected = "  - echo world 1.2.3 $HOME ${KEEP} d\n" * 5_000
    assert len(text) > 250_000
    assert substitute(text, lookup) == expected


def test_parse_cache_is_consistent() -> None:
    """Repeated calls with different lookups use fresh values."""
    assert substitute("${X}", {"X": "1"}.get) == "1"
    assert substitute("${X}", {"X": "2"}.get) == "2"


_NAMES = st.sampled_from(["NAME", "EMPTY", "UNKNOWN", "UNI", "BRACE", "N"])


@given(st.text().filter(lambda s: "$" not in s))
def test_property_no_dollar_is_identity(text: str) -> None:
    """Any text without `$` comes back unchanged."""
    assert substitute(text, lookup) == text
    check(text)


@given(st.text(alphabet=st.sampled_from(list("${}#%/:-=+?^,*[]\\ aNE1é\n")), max_size=40) | st.text())
def test_property_str_or_substitution_error(text: str) -> None:
    """Any text either substitutes to a str or raises SubstitutionError, nothing else."""
    result: str | SubstitutionError
    try:
        result = substitute(text, lookup)
    except SubstitutionError as error:
        result = error
    if isinstance(result, SubstitutionError):
        assert 0 <= result.offset < len(text)
        assert text[result.offset] == "$"
        with pytest.raises(SubstitutionError):
            check(text)
    else:
        assert isinstance(result, str)
        check(text)


@given(_NAMES, st.text().filter(lambda s: "$" not in s and "}" not in s))
def test_property_default_word(name: str, word: str) -> None:
    """${V:-word} is the value when non-empty, else the word."""
    expected = ENV.get(name) or word
    assert substitute("${" + name + ":-" + word + "}", lookup) == expected


def _naive_trim(value: str, op: str, pattern: str) -> str:
    """Trim like bash by trying every cut, shortest or longest first (reference for #, ##, % and %%)."""
    regex = re.compile(fnmatch.translate(pattern), re.DOTALL)
    cuts = range(len(value) + 1)
    if op in ("#", "##"):
        for end in cuts if op == "#" else reversed(cuts):
            if regex.fullmatch(value[:end]):
                return value[end:]
    else:
        for begin in reversed(cuts) if op == "%" else cuts:
            if regex.fullmatch(value[begin:]):
                return value[:begin]
    return value


@given(
    st.text(alphabet="ab/.", max_size=12),
    st.text(alphabet="ab/.*?", max_size=6),
    st.sampled_from(["#", "##", "%", "%%"]),
)
def test_property_trim_matches_reference(value: str, pattern: str, op: str) -> None:
    """Prefix/suffix removal agrees with a brute-force reference that tries every cut."""
    assert substitute("${V" + op + pattern + "}", {"V": value}.get) == _naive_trim(value, op, pattern)


def test_trim_is_fast_on_long_values() -> None:
    """Trimming a long value without a match stays well below quadratic cost."""
    value = "x" * 200_000
    env = {"M": value, "L": value + "\nrest"}.get
    for op in ("#*\n", "##*\n", "%\n*", "%%\n*", "#*a*b*c"):
        assert substitute("${M" + op + "}", env) == value
    assert substitute("${L%%\n*}", env) == value
    assert substitute("${L#*\n}", env) == "rest"
