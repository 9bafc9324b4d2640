"""Lint rules: names, dependencies, cycles, trust, volumes."""

from __future__ import annotations

import textwrap

from pipelines import lint_text
from pipelines.lint import find_cycle


def _errors(text: str, *, trusted: bool = False) -> list[str]:
    return [p.format() for p in lint_text(textwrap.dedent(text), "l.yml", trusted=trusted) if p.is_error]


def test_clean_file_has_no_problems() -> None:
    assert _errors("kind: pipeline\nsteps:\n  - name: a\n    image: busybox\n") == []


def test_duplicate_step_and_service_names() -> None:
    errors = _errors(
        """\
        kind: pipeline
        services:
          - name: db
            image: postgres
        steps:
          - name: db
            image: busybox
        """
    )
    assert errors == [
        "l.yml:6:11: error: steps[0].name: two steps are named 'db'"
        " (hint: give every step and service its own name)"
    ]


def test_step_dependency_cycle_and_missing_target() -> None:
    errors = _errors(
        """\
        kind: pipeline
        steps:
          - name: a
            image: busybox
            depends_on: [b]
          - name: b
            image: busybox
            depends_on: [a, c]
        """
    )
    assert any("depends on 'c'" in e for e in errors)
    assert any("cycle: a -> b -> a" in e for e in errors)


def test_stage_dependency_cycle_and_typo() -> None:
    errors = _errors(
        """\
        kind: pipeline
        name: build
        depends_on: [tset]
        steps: [{name: a, image: busybox}]
        ---
        kind: pipeline
        name: test
        depends_on: [deploy]
        steps: [{name: a, image: busybox}]
        ---
        kind: pipeline
        name: deploy
        depends_on: [test]
        steps: [{name: a, image: busybox}]
        """
    )
    assert any("depends on 'tset'" in e and "did you mean 'test'" in e for e in errors)
    assert any("pipelines depend on each other in a cycle: test -> deploy -> test" in e for e in errors)


def test_trust_rules_apply_only_to_untrusted_repositories() -> None:
    text = """\
        kind: pipeline
        steps:
          - name: a
            image: docker
            privileged: true
            network_mode: host
            extra_hosts: ["a:1.2.3.4"]
            dns: [1.1.1.1]
            devices: [{name: fuse, path: /dev/fuse}]
            volumes: [{name: sock, path: /var/run/docker.sock}, {name: ram, path: /ram}]
        volumes:
          - name: sock
            host: {path: /var/run/docker.sock}
          - name: ram
            temp: {medium: memory}
        """
    untrusted = _errors(text)
    assert len(untrusted) == 7
    assert all("trusted repository" in e for e in untrusted)
    assert _errors(text, trusted=True) == []


def test_volume_rules() -> None:
    errors = _errors(
        """\
        kind: pipeline
        steps:
          - name: a
            image: busybox
            volumes:
              - name: workspace
                path: /w
              - name: nowhere
                path: /x
              - name: cache
                path: ../escape
        volumes:
          - name: cache
            temp: {}
          - name: _docker_socket
            temp: {}
          - name: up
            host: {path: /var/../etc}
        """,
        trusted=True,
    )
    joined = "\n".join(errors)
    assert "mounts the reserved volume 'workspace'" in joined
    assert "volume 'nowhere', which the pipeline does not define" in joined
    assert "mount path '../escape' must be absolute" in joined
    assert "the volume name '_docker_socket' is reserved" in joined
    assert "host path '/var/../etc'" in joined


def test_implicit_clone_step_name_is_reserved_unless_disabled() -> None:
    text = "kind: pipeline\n{clone}steps:\n  - name: clone\n    image: alpine/git\n"
    assert any("taken by the implicit clone step" in e for e in _errors(text.format(clone="")))
    assert _errors(text.format(clone="clone: {disable: true}\n")) == []


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) == []
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["a"]}) == ["a", "a"]


def test_workspace_must_not_cover_system_folders_or_escape() -> None:
    text = "kind: pipeline\nworkspace:\n  {workspace}\nsteps:\n  - name: a\n    image: busybox\n"
    assert _errors(text.format(workspace="base: /go\n  path: src/github.com/x")) == []
    assert _errors(text.format(workspace="path: /app")) == []
    assert "would hide the container's own /etc" in _errors(text.format(workspace="base: /etc"))[0]
    assert "would hide" in _errors(text.format(workspace="base: /"))[0]
    assert "without '..'" in _errors(text.format(workspace="base: /drone\n  path: ../../etc"))[0]
    assert "absolute" in _errors(text.format(workspace="base: relative"))[0]


_MOUNTS = """\
kind: pipeline
workspace:
  base: /go
  path: src/app
steps:
  - name: build
    image: golang
    volumes:
      - name: cache
        path: {step}
services:
  - name: db
    image: postgres
    volumes:
      - name: cache
        path: {service}
volumes:
  - name: cache
    temp: {{}}
"""


def _mount_errors(step: str, service: str = "/var/lib/postgresql/data") -> list[str]:
    return _errors(_MOUNTS.format(step=step, service=service))


def test_a_volume_in_the_runners_folders_is_refused_where_it_is_mounted() -> None:
    assert _mount_errors("/run/drone") == [
        "l.yml:9:7: error: steps[0].volumes: step 'build' mounts volume 'cache' at /run/drone,"
        " which the runner keeps for its own files (hint: mount it elsewhere, e.g. path: /cache)"
    ]
    assert _mount_errors("/run/hangar/env") == [
        "l.yml:9:7: error: steps[0].volumes: step 'build' mounts volume 'cache' at /run/hangar/env, in"
        " /run/hangar, which the runner keeps for its own files (hint: mount it elsewhere, e.g. path: /cache)"
    ]
    (service,) = _mount_errors("/cache", service="/run//drone/./env/")
    assert service.startswith("l.yml:15:7: error: services[0].volumes: step 'db' mounts volume 'cache'")
    assert "in /run/drone, which the runner keeps for its own files" in service


def test_a_volume_on_the_workspace_or_the_cloned_code_is_refused() -> None:
    (on_base,) = _mount_errors("/go")
    assert on_base.startswith("l.yml:9:7: error: steps[0].volumes: step 'build' mounts volume 'cache' at /go")
    assert "where the runner mounts the workspace (hint: mount it inside the workspace," in on_base
    assert "e.g. path: /go/src/app/cache, or elsewhere)" in on_base
    (on_clone,) = _mount_errors("/go/src/app/")
    assert "where the runner puts the cloned repository, which it would hide" in on_clone
    (service,) = _mount_errors("/cache", service="/go")
    assert service.startswith("l.yml:15:7: error: services[0].volumes: step 'db'")


def test_a_volume_beside_the_runners_folders_or_inside_the_workspace_is_fine() -> None:
    for path in ("/run", "/run/dronecache", "/run/hangar-cache", "/go/src/app/node_modules", "/go/pkg"):
        assert _mount_errors(path) == [], path


def test_a_workspace_in_the_runners_folders_is_refused() -> None:
    text = "kind: pipeline\nworkspace:\n  {workspace}\nsteps:\n  - name: a\n    image: busybox\n"
    assert _errors(text.format(workspace="base: /run/hangar")) == [
        "l.yml:3:3: error: workspace: workspace '/run/hangar' is in /run/hangar, which the runner keeps"
        " for its own files (hint: workspace: {base: /drone/src})"
    ]
    assert "is in /run/drone," in _errors(text.format(workspace="path: /run/drone/src"))[0]
    assert "is in /run/drone," in _errors(text.format(workspace="base: /run/drone/\n  path: src"))[0]
    assert _errors(text.format(workspace="base: /srv/run/hangar")) == []


def test_a_workspace_based_on_a_system_folder_hides_it_even_with_a_path_below() -> None:
    text = "kind: pipeline\nworkspace:\n  {workspace}\nsteps:\n  - name: a\n    image: busybox\n"
    (error,) = _errors(text.format(workspace="base: /etc\n  path: app"))
    assert "workspace '/etc/app' would hide the container's own /etc folder" in error
