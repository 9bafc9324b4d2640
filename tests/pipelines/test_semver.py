from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.semver import semver_environ


def full(version: str, major: str, minor: str, patch: str, pre: str = "", build: str = "") -> dict[str, str]:
    env = {
        "DRONE_SEMVER": version,
        "DRONE_SEMVER_SHORT": f"{major}.{minor}.{patch}",
        "DRONE_SEMVER_MAJOR": major,
        "DRONE_SEMVER_MINOR": minor,
        "DRONE_SEMVER_PATCH": patch,
    }
    if pre:
        env["DRONE_SEMVER_PRERELEASE"] = pre
    if build:
        env["DRONE_SEMVER_BUILD"] = build
    return env


def error(message: str) -> dict[str, str]:
    return {"DRONE_SEMVER_ERROR": message}


CASES = [
    ("", {}),
    # valid: one leading "v" is dropped, numbers are normalised, empty parts are left out
    ("v1.2.3-rc.1+build.5", full("1.2.3-rc.1+build.5", "1", "2", "3", "rc.1", "build.5")),
    ("v1.2.3-alpha+001", full("1.2.3-alpha+001", "1", "2", "3", "alpha", "001")),
    ("1.2.3", full("1.2.3", "1", "2", "3")),
    ("v0.0.0", full("0.0.0", "0", "0", "0")),
    ("v10.20.30", full("10.20.30", "10", "20", "30")),
    ("v01.002.0003", full("1.2.3", "1", "2", "3")),
    ("1.2.3-alpha.1", full("1.2.3-alpha.1", "1", "2", "3", "alpha.1")),
    ("1.2.3+001", full("1.2.3+001", "1", "2", "3", build="001")),
    ("1.0.0-x.7.z.92", full("1.0.0-x.7.z.92", "1", "0", "0", "x.7.z.92")),
    ("1.0.0-0.3.7", full("1.0.0-0.3.7", "1", "0", "0", "0.3.7")),
    ("1.2.3-01", full("1.2.3-01", "1", "2", "3", "01")),
    ("1.2.3-rc-1", full("1.2.3-rc-1", "1", "2", "3", "rc-1")),
    ("1.2.3-rc-1+build-5", full("1.2.3-rc-1+build-5", "1", "2", "3", "rc-1", "build-5")),
    ("1.2.3+build-5", full("1.2.3+build-5", "1", "2", "3", build="build-5")),
    (
        "1.0.0-beta+exp.sha.5114f85",
        full("1.0.0-beta+exp.sha.5114f85", "1", "0", "0", "beta", "exp.sha.5114f85"),
    ),
    ("1.2.3-", full("1.2.3", "1", "2", "3")),
    ("1.2.3+", full("1.2.3", "1", "2", "3")),
    ("1.2.3-+", full("1.2.3", "1", "2", "3")),
    (
        "9223372036854775807.0.0",
        full("9223372036854775807.0.0", "9223372036854775807", "0", "0"),
    ),
    # not semver: only DRONE_SEMVER_ERROR, with coreos/go-semver's and Go's messages
    ("this is an invalid version", error("this is an invalid version is not in dotted-tri format")),
    ("v1.2", error("1.2 is not in dotted-tri format")),
    ("v1", error("1 is not in dotted-tri format")),
    ("v", error(" is not in dotted-tri format")),
    ("latest", error("latest is not in dotted-tri format")),
    ("release-1.0", error("release is not in dotted-tri format")),
    ("-1.2.3", error(" is not in dotted-tri format")),
    ("v1.2-rc.1", error("1.2 is not in dotted-tri format")),
    ("v1.2.4.5", error('strconv.ParseInt: parsing "4.5": invalid syntax')),
    ("1.2.3.4", error('strconv.ParseInt: parsing "3.4": invalid syntax')),
    ("vv1.2.3", error('strconv.ParseInt: parsing "v1": invalid syntax')),
    ("V1.2.3", error('strconv.ParseInt: parsing "V1": invalid syntax')),
    ("1..3", error('strconv.ParseInt: parsing "": invalid syntax')),
    ("1.2.", error('strconv.ParseInt: parsing "": invalid syntax')),
    ("1.x.3", error('strconv.ParseInt: parsing "x": invalid syntax')),
    ("1.2.3 ", error('strconv.ParseInt: parsing "3 ": invalid syntax')),
    ("1.2.1_000", error('strconv.ParseInt: parsing "1_000": invalid syntax')),
    ("1.2.٣", error('strconv.ParseInt: parsing "٣": invalid syntax')),
    ("1.2.3\n", error('strconv.ParseInt: parsing "3\\n": invalid syntax')),
    ("1.2.3\x00", error('strconv.ParseInt: parsing "3\\x00": invalid syntax')),
    ("1.2.3\x7f", error('strconv.ParseInt: parsing "3\\x7f": invalid syntax')),
    ("1.2.3\u200b", error('strconv.ParseInt: parsing "3\\u200b": invalid syntax')),
    ("1.2.3\U000e0001", error('strconv.ParseInt: parsing "3\\U000e0001": invalid syntax')),
    ('1.2."3\\', error('strconv.ParseInt: parsing "\\"3\\\\": invalid syntax')),
    ("9223372036854775808.0.0", error('strconv.ParseInt: parsing "9223372036854775808": value out of range')),
    (
        "1.99999999999999999999.0",
        error('strconv.ParseInt: parsing "99999999999999999999": value out of range'),
    ),
    (
        "1.2.99999999999999999999x",
        error('strconv.ParseInt: parsing "99999999999999999999x": value out of range'),
    ),
    ("1.2.9223372036854775808x", error('strconv.ParseInt: parsing "9223372036854775808x": invalid syntax')),
    ("1.x.99999999999999999999", error('strconv.ParseInt: parsing "x": invalid syntax')),
    ("1.2.3-rc_1", error("failed to validate pre-release: rc_1 is not a valid semver identifier")),
    ("1.2.3-rc..1", error("failed to validate pre-release: rc..1 is not a valid semver identifier")),
    ("1.2.3-rc.", error("failed to validate pre-release: rc. is not a valid semver identifier")),
    ("1.2.3-ünï", error("failed to validate pre-release: ünï is not a valid semver identifier")),
    ("1.2.3+a+b", error("failed to validate metadata: a+b is not a valid semver identifier")),
    ("1.2.3+a/b", error("failed to validate metadata: a/b is not a valid semver identifier")),
    ("1.2.3-a!+b!", error("failed to validate pre-release: a! is not a valid semver identifier")),
    ("1.x.3-a!", error("failed to validate pre-release: a! is not a valid semver identifier")),
    ("1.x.3+b!", error("failed to validate metadata: b! is not a valid semver identifier")),
]


@pytest.mark.parametrize(("tag", "expected"), CASES)
def test_semver_environ(tag: str, expected: dict[str, str]) -> None:
    assert semver_environ(tag) == expected


identifiers = st.lists(st.from_regex(r"[0-9A-Za-z-]+", fullmatch=True), min_size=1, max_size=3).map(".".join)
numbers = st.integers(min_value=0, max_value=(1 << 63) - 1)


@given(numbers, numbers, numbers, st.none() | identifiers, st.none() | identifiers, st.booleans())
def test_valid_versions_round_trip(
    major: int, minor: int, patch: int, pre: str | None, build: str | None, prefix: bool
) -> None:
    version = f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else "") + (f"+{build}" if build else "")
    env = semver_environ(("v" if prefix else "") + version)
    assert env == full(version, str(major), str(minor), str(patch), pre or "", build or "")


@given(st.text(min_size=1))
def test_any_tag_gives_a_version_or_only_an_error(tag: str) -> None:
    env = semver_environ(tag)
    if "DRONE_SEMVER_ERROR" in env:
        assert list(env) == ["DRONE_SEMVER_ERROR"]
    else:
        assert env["DRONE_SEMVER_SHORT"] == ".".join(
            env[f"DRONE_SEMVER_{part}"] for part in ("MAJOR", "MINOR", "PATCH")
        )
        assert env["DRONE_SEMVER"].startswith(env["DRONE_SEMVER_SHORT"])
