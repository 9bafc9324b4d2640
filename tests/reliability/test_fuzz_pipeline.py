"""Hostile pipeline files: the compiler answers a Plan or a ConfigError located at `.ci.yml:LINE:COL:`, never
another exception, a hang or unbounded memory (YAML alias bombs included); and a bad file pushed to a real
repository ends its build in `error` with that message.

`tests/pipelines/test_properties.py` fuzzes random text, flat documents and mutated Drone files; here the
documents are pipeline-shaped (steps, services, volumes, matrix… of random types), the project's golden
files and the corpus's Woodpecker files (when it is there) are mutated, and every error's location checked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pipelines import BuildContext, ConfigError, compile_file
from server.services import Services
from tests.corpus import corpus_files
from tests.pipelines.golden_support import golden_files
from tests.server.support import PushedRepo, send_push
from tests.server.test_flow import build_of, run_jobs

SEEDS = [
    *golden_files(),
    *(path for folder in ("woodpecker", "woodpecker-schema") for path in corpus_files(folder, "**/*.y*ml")),
]
CONTEXT = BuildContext(
    event="push", branch="main", ref="refs/heads/main", changed_files=["a.go"], trusted=True
)
LOCATED = re.compile(r"^\.ci\.yml:[1-9]\d*:[1-9]\d*: error: .+", re.DOTALL)
EXAMPLES = hypothesis_settings(
    max_examples=int(os.environ.get("HANGAR_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
MEMORY_LIMIT = 1 << 30
"""Bytes of address space a bomb may make the compiler use before the test calls it exhaustion."""


def compile_or_refuse(text: str) -> None:
    """Compile; a refusal must be a ConfigError whose first error is located at a line and column."""
    try:
        compile_file(text, CONTEXT, ".ci.yml")
    except ConfigError as exc:
        assert exc.problems and LOCATED.match(exc.first.format()), exc.first.format()
        assert all(p.line >= 1 for p in exc.problems if p.is_error), str(exc)


SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(), st.text(max_size=15),
    st.sampled_from(["busybox", "alpine:3", "${DRONE_COMMIT}", "${X:-y}", "${", "$$HOME", "main", "*"]),
)  # fmt: skip
ANY = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
LISTED = st.fixed_dictionaries({}, optional={"include": ANY, "exclude": ANY})
WHEN = st.dictionaries(
    st.sampled_from(["branch", "event", "status", "ref", "paths", "matrix", "x"]),
    st.one_of(ANY, st.lists(st.text(max_size=10), max_size=3), LISTED),
)
STEP = st.fixed_dictionaries(
    {"name": st.one_of(st.text(max_size=10), ANY), "image": st.one_of(st.just("busybox"), ANY)},
    optional={
        "commands": st.one_of(st.lists(st.text(max_size=20), max_size=3), ANY),
        "when": st.one_of(WHEN, ANY),
        "depends_on": st.one_of(st.lists(st.sampled_from(["a", "b", "clone", "x"]), max_size=3), ANY),
        "environment": st.one_of(st.dictionaries(st.text(max_size=8), st.one_of(
            SCALAR, st.fixed_dictionaries({"from_secret": ANY})), max_size=3), ANY),
        "settings": ANY,
        "volumes": st.one_of(st.lists(st.fixed_dictionaries({"name": ANY, "path": ANY}), max_size=2), ANY),
        **dict.fromkeys(("detach", "privileged", "pull", "failure", "entrypoint", "shm_size", "user"), ANY),
    },
)  # fmt: skip
PIPELINE = st.fixed_dictionaries(
    {"kind": st.sampled_from(["pipeline", "pipeline", "secret", "signature", "x"]),
     "type": st.sampled_from(["docker", "docker", "exec", "kubernetes", "y"]),
     "name": st.one_of(st.sampled_from(["default", "a", "b"]), ANY),
     "steps": st.one_of(st.lists(STEP, max_size=4), ANY)},
    optional={
        "services": st.one_of(st.lists(STEP, max_size=2), ANY),
        "volumes": st.one_of(st.lists(st.fixed_dictionaries({"name": ANY}, optional={"temp": ANY}),
                                      max_size=2), ANY),
        "depends_on": st.one_of(st.lists(st.sampled_from(["a", "b", "default"]), max_size=2), ANY),
        "trigger": st.one_of(WHEN, ANY), "environment": ANY, "matrix": ANY, "secrets": ANY,
        "workspace": ANY, "clone": ANY, "platform": ANY, "node": ANY, "image_pull_secrets": ANY,
        "concurrency": ANY, "get": ANY,
    },
)  # fmt: skip


@EXAMPLES
@given(st.lists(PIPELINE, min_size=1, max_size=3))
def test_pipeline_shaped_documents_compile_or_are_refused_with_a_location(
    documents: list[dict[str, Any]],
) -> None:
    compile_or_refuse(yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True))


@st.composite
def mutated_pipeline_file(draw: st.DrawFn) -> str:
    """A golden or Woodpecker file, some lines deleted, moved, re-indented or given YAML punctuation."""
    lines = draw(st.sampled_from(SEEDS)).read_text().splitlines()
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "swap", "indent", "dedent", "insert", "value"]))
        if action == "delete":
            del lines[index]
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif action == "indent":
            lines[index] = " " * draw(st.integers(1, 4)) + lines[index]
        elif action == "dedent":
            lines[index] = lines[index].lstrip()
        elif action == "insert":
            junk = draw(
                st.sampled_from(
                    [
                        "&x ",
                        "*x",
                        "<<: *x",
                        "!!binary ",
                        "!!python/object ",
                        "? ",
                        "%TAG",
                        "---",
                        "...",
                        "{{",
                        "]]",
                        "- - -",
                        "\\u0000",
                        "\x00",
                        "\ufeff",
                    ]
                )
            )
            column = draw(st.integers(0, len(lines[index])))
            lines[index] = lines[index][:column] + junk + lines[index][column:]
        else:
            key, colon, _value = lines[index].partition(":")
            if colon:
                lines[index] = (
                    f"{key}: {draw(st.sampled_from(['[]', '{}', '~', '1e999', '-1', 'yes', '0x1F']))}"
                )
    return "\n".join(lines)


@EXAMPLES
@given(mutated_pipeline_file())
@example("steps:\n  a: &x\n    image: busybox\n  b: *x\n  c:\n    <<: *x\n    <<: *x\n")
def test_mutated_pipeline_files_compile_or_are_refused_with_a_location(text: str) -> None:
    compile_or_refuse(text)


def _laughs(levels: int, fan: int, key_style: bool = False) -> str:
    lines = ["a0: &a0 [lol]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * fan)
        lines.append(
            f"a{level}: &a{level} " + ("{" + refs.replace("*", "? *") + "}" if key_style else f"[{refs}]")
        )
    return "kind: pipeline\nsteps:\n  - name: a\n    image: busybox\n    settings:\n" + "".join(
        f"      {line}\n" for line in lines
    )


BOMBS = {
    "billion laughs in settings": _laughs(10, 10),
    "wide laughs": _laughs(4, 1000),
    "laughs through merge keys": "x0: &x0 {a: 1, b: 2}\n" + "".join(
        f"x{n}: &x{n} {{<<: [{', '.join([f'*x{n - 1}'] * 8)}], k{n}: v}}\n" for n in range(1, 12)
    ) + "kind: pipeline\nsteps:\n  - name: a\n    image: busybox\n    environment: *x11\n",
    "laughs as steps": "x0: &x0 [{name: a, image: busybox, commands: [echo]}]\n" + "".join(
        f"x{n}: &x{n} [{', '.join([f'*x{n - 1}'] * 10)}]\n" for n in range(1, 9)
    ) + "kind: pipeline\nsteps: *x8\n",
    "deep nesting": "kind: pipeline\nsteps: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep block nesting": "kind: pipeline\nx:\n" + "".join(f"{' ' * n}k{n}:\n" for n in range(1, 3000)),
    "huge scalar repeated": "s: &s " + "x" * 1_000_000 + "\n" + "kind: pipeline\nsteps:\n" + "".join(
        f"  - {{name: s{n}, image: busybox, commands: [*s]}}\n" for n in range(200)
    ),
}  # fmt: skip
BOMB_SCRIPT = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from pipelines import BuildContext, ConfigError, compile_file
text = sys.stdin.read()
started = time.perf_counter()
try:
    compile_file(text, BuildContext(event="push", branch="main"), ".ci.yml")
    outcome = "compiled"
except ConfigError as exc:
    outcome = exc.first.format().splitlines()[0]
print(f"{{time.perf_counter() - started:.3f}}s {{outcome}}")
"""


@pytest.mark.parametrize("name", list(BOMBS))
def test_yaml_bombs_are_refused_quickly_within_bounded_memory(name: str) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT.format(limit=MEMORY_LIMIT)], input=BOMBS[name], text=True,
        capture_output=True, timeout=120, check=False, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    print(f"{name}: {done.stdout.strip()} (process {time.perf_counter() - started:.1f} s)")
    assert done.returncode == 0, (
        f"the compiler died (memory limit {MEMORY_LIMIT} bytes?): {done.stderr[-2000:]}"
    )
    _seconds, _, outcome = done.stdout.strip().partition(" ")
    assert LOCATED.match(outcome) or outcome == "compiled", outcome
    if name != "huge scalar repeated":
        assert outcome != "compiled", "an alias bomb or absurd nesting must be refused"


BAD_FILES = {
    "syntax": "kind: pipeline\nsteps:\n  - name: a\n    image: 'busybox\n",
    "types": "kind: pipeline\nsteps:\n  - name: [a]\n    image: {x: 1}\n    commands: 7\n",
    "bomb": _laughs(10, 10),
    "unknown dependency": "kind: pipeline\nsteps:\n  - name: a\n    image: busybox\n    depends_on: [nope]\n",
    "tab": "kind: pipeline\nsteps:\n\t- name: a\n",
    "bad substitution": "kind: pipeline\nsteps:\n  - name: a\n    image: busybox\n    commands: [${A/}]\n",
}


@pytest.mark.parametrize("name", list(BAD_FILES))
async def test_a_bad_file_pushed_ends_its_build_in_error_with_the_location(
    name: str,
    pushed: PushedRepo,
    client: httpx.AsyncClient,
    hangar: Services,
    redis_url: str,
) -> None:
    before, after = pushed.push({".ci.yml": BAD_FILES[name]})
    answer = await send_push(client, "octo", "app", before, after, f"a {name} error")
    assert answer.status_code == 202, answer.text
    await run_jobs(hangar, redis_url)
    build = await build_of(hangar, 1)
    assert build.status == "error", build
    assert LOCATED.match(build.error.splitlines()[0]), build.error
    assert "internal error" not in build.error
    shown = (await client.get("/api/repos/octo/app/builds/1")).json()
    assert shown["status"] == "error" and shown["error"] == build.error
