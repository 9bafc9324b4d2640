"""Reading pipeline files: shapes, located errors, warnings for stray keys, legacy and foreign syntax."""

from __future__ import annotations

import textwrap

from pipelines import parse
from pipelines.model import SecretRef


def _parse(text: str):
    return parse(textwrap.dedent(text), "pipe.yml")


def _messages(text: str) -> list[str]:
    return [p.format() for p in _parse(text).problems]


def test_multi_document_file_with_secret_and_signature() -> None:
    manifest = _parse(
        """\
        kind: pipeline
        name: a
        steps:
          - name: s
            image: busybox
        ---
        kind: pipeline
        type: docker
        name: b
        steps:
          - name: s
            image: busybox
        ---
        kind: secret
        name: token
        get:
          path: secret/ci
          name: token
        ---
        kind: signature
        hmac: abc123
        """
    )
    assert [p.name for p in manifest.pipelines] == ["a", "b"]
    assert manifest.secrets[0].name == "token" and manifest.secrets[0].get_path == "secret/ci"
    assert manifest.signatures == ["abc123"]
    assert manifest.problems == []


def test_missing_image_names_line_column_path_and_hint() -> None:
    problems = _parse(
        """\
        kind: pipeline
        steps:
          - name: ok
            image: busybox
          - name: broken
            commands: [make]
        """
    ).problems
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.line, problem.column, problem.path) == (5, 5, "steps[1].image")
    assert "every step needs an image" in problem.hint
    assert problem.format().startswith("pipe.yml:5:5: error: steps[1].image:")


def test_yaml_syntax_error_points_at_the_line() -> None:
    problems = _parse(
        """\
        kind: pipeline
        steps:
          - name: a
            image: busybox
           commands: [x]
        """
    ).problems
    assert len(problems) == 1
    assert problems[0].line == 5
    assert "YAML syntax error" in problems[0].message


def test_unknown_keys_are_warnings_with_suggestions() -> None:
    problems = _parse(
        """\
        kind: pipeline
        steps:
          - name: a
            image: busybox
            comands: [make]
        """
    ).problems
    assert [p.severity.value for p in problems] == ["warning"]
    assert "unknown key 'comands'" in problems[0].message
    assert problems[0].hint == "did you mean `commands`?"
    assert problems[0].line == 5


def test_environment_values_keep_their_text() -> None:
    step = (
        _parse(
            """\
            kind: pipeline
            steps:
              - name: a
                image: busybox
                environment:
                  GO_VERSION: 1.10
                  COUNT: 3
                  DEBUG: true
                  ANSWER: yes
                  EMPTY:
                  TOKEN:
                    from_secret: token
            """
        )
        .pipelines[0]
        .steps[0]
    )
    assert step.environment == {
        "GO_VERSION": "1.10",
        "COUNT": "3",
        "DEBUG": "true",
        "ANSWER": "yes",
        "EMPTY": "",
        "TOKEN": SecretRef("token"),
    }


def test_a_command_with_colon_space_gets_a_quoting_hint() -> None:
    problems = _parse(
        """\
        kind: pipeline
        steps:
          - name: a
            image: busybox
            commands:
              - echo hello: world
        """
    ).problems
    assert problems[0].line == 6 and "quotes" in problems[0].hint


def test_drone_08_file_is_recognised() -> None:
    problems = _parse(
        """\
        workspace:
          base: /go
        pipeline:
          build:
            image: golang
            commands: [go build]
        """
    ).problems
    assert len(problems) == 1
    assert problems[0].line == 3
    assert "Drone 0.8 syntax" in problems[0].message
    assert "`steps:` list" in problems[0].hint


def test_foreign_pipeline_types_are_recorded_not_parsed() -> None:
    manifest = _parse(
        """\
        kind: pipeline
        type: kubernetes
        name: k8s
        steps:
          - name: a
        ---
        kind: pipeline
        name: docker
        steps:
          - name: a
            image: busybox
        """
    )
    assert [(u.name, u.type, u.span.line) for u in manifest.unsupported] == [("k8s", "kubernetes", 2)]
    assert [p.name for p in manifest.pipelines] == ["docker"]
    assert manifest.problems == []


def test_merge_keys_and_anchors() -> None:
    manifest = _parse(
        """\
        kind: pipeline
        steps:
          - &base
            name: one
            image: busybox
            environment: {A: "1"}
          - <<: *base
            name: two
        """
    )
    assert [(s.name, s.image, s.environment) for s in manifest.pipelines[0].steps] == [
        ("one", "busybox", {"A": "1"}),
        ("two", "busybox", {"A": "1"}),
    ]


def test_wrong_shapes_are_errors_not_crashes() -> None:
    messages = _messages(
        """\
        kind: pipeline
        steps:
          name: not-a-list
        trigger: [push]
        clone:
          depth: lots
        """
    )
    assert any("steps must be a list" in m for m in messages)
    assert any("trigger must be a map" in m for m in messages)
    assert any("depth must be a whole number" in m for m in messages)


def test_condition_values_that_never_match_are_warned_about() -> None:
    messages = _messages(
        """\
        kind: pipeline
        trigger:
          event: [pr, push]
          branches: main
        steps:
          - name: a
            image: busybox
        """
    )
    assert any("event 'pr' never matches" in m and "pull_request" in m for m in messages)
    assert any("unknown condition 'branches'" in m and "`branch`" in m for m in messages)


def test_empty_file_and_non_map_document() -> None:
    assert "no pipeline" in _messages("")[0]
    assert "must be a map" in _messages("- just\n- a list\n")[0]


def test_byte_sizes_and_settings() -> None:
    step = (
        _parse(
            """\
            kind: pipeline
            steps:
              - name: a
                image: plugins/docker
                shm_size: 64m
                mem_limit: 1GiB
                settings:
                  tags: [latest, 1.10]
                  password: {from_secret: pw}
            """
        )
        .pipelines[0]
        .steps[0]
    )
    assert step.shm_size == 64 * 1024 * 1024 and step.mem_limit == 1 << 30
    assert step.settings == {"tags": ["latest", "1.10"], "password": SecretRef("pw")}


def test_alias_bombs_are_refused_not_expanded() -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    text = "kind: pipeline\nsteps:\n  - name: a\n    image: busybox\n    settings:\n"
    text += "".join(f"      {line}\n" for line in levels)
    problems = [p for p in parse(text, "bomb.yml").problems if p.is_error]
    assert len(problems) == 1
    assert "expands to more than" in problems[0].message
