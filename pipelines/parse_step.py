"""Reading one step or service of a pipeline."""

from __future__ import annotations

import yaml

from pipelines.artifact_paths import read_artifacts
from pipelines.model import Device, Step, VolumeMount
from pipelines.parse_cache import read_caches
from pipelines.parse_values import (
    known_entries,
    read_byte_size,
    read_conditions,
    read_environment,
    read_settings,
    span_of,
)
from pipelines.yamltree import Node, Path, Reader

STEP_KEYS = (
    "name", "image", "pull", "commands", "entrypoint", "command", "environment", "settings", "when", "cache",
    "detach", "privileged", "failure", "depends_on", "volumes", "user", "working_dir", "network_mode",
    "dns", "dns_search", "extra_hosts", "devices", "shm_size", "mem_limit", "memswap_limit",
    "cpu_period", "cpu_quota", "cpu_shares", "cpu_set", "cpuset", "reports", "artifacts",
)  # fmt: skip
PULL_POLICIES = ("always", "if-not-exists", "never", "default")
FAILURE_POLICIES = ("ignore", "fast", "fast-fail", "fail-fast", "always", "")
MAX_NAME = 100


def read_step(reader: Reader, node: Node, path: Path, *, is_service: bool) -> Step | None:
    """A step (or service) map; None when it is not a map at all."""
    what = "a service" if is_service else "a step"
    example = "- name: test\n    image: python:3.11\n    commands: [pytest]"
    entries = reader.mapping(node, path, what, example)
    if not isinstance(node, yaml.MappingNode):
        return None
    step = Step(name="", is_service=is_service)
    step.spans[""] = span_of(node, path)
    for key, value, here in known_entries(reader, entries, path, STEP_KEYS, what, step.spans):
        _read_key(reader, step, key, value, here)
    _check_required(reader, step, node, path, what)
    return step


def _read_key(reader: Reader, step: Step, key: str, value: Node, here: Path) -> None:
    """Store one key's value on the step."""
    if key in ("name", "image", "user", "working_dir", "network_mode"):
        setattr(step, key, reader.string(value, here, key))
    elif key == "pull":
        step.pull = reader.string(value, here, "pull")
        if step.pull and step.pull.lower() not in PULL_POLICIES:
            reader.warn(
                value, here, f"pull policy {step.pull!r} is unknown", f"one of {', '.join(PULL_POLICIES)}"
            )
    elif key == "failure":
        step.failure = reader.string(value, here, "failure")
        if step.failure not in FAILURE_POLICIES:
            reader.warn(value, here, f"failure policy {step.failure!r} is unknown", "failure: ignore")
    elif key == "commands":
        step.commands = read_commands(reader, value, here)
    elif key in ("entrypoint", "command"):
        setattr(step, key, reader.strings(value, here, key))
    elif key == "environment":
        step.environment = read_environment(reader, value, here, "environment")
    elif key == "settings":
        step.settings = read_settings(reader, value, here)
    elif key == "when":
        step.when = read_conditions(reader, value, here, "when")
    elif key in ("detach", "privileged"):
        setattr(step, key, reader.boolean(value, here, key))
    elif key in ("depends_on", "dns", "dns_search", "extra_hosts", "reports"):
        setattr(step, key, reader.strings(value, here, key))
    elif key == "artifacts":
        step.artifacts = read_artifacts(reader, value, here)
    elif key in ("cpu_set", "cpuset"):
        step.cpuset = reader.strings(value, here, key)
    elif key == "volumes":
        step.volumes = [
            VolumeMount(name, path) for name, path in _read_pairs(reader, value, here, "volume", "path")
        ]
    elif key == "devices":
        step.devices = [
            Device(name, path) for name, path in _read_pairs(reader, value, here, "device", "path")
        ]
    elif key == "cache":
        step.caches = read_caches(reader, value, here)
    elif key in ("shm_size", "mem_limit", "memswap_limit"):
        setattr(step, key, read_byte_size(reader, value, here))
    else:  # cpu_period, cpu_quota, cpu_shares
        setattr(step, key, reader.integer(value, here, key))


def read_commands(reader: Reader, node: Node, path: Path) -> list[str]:
    """Shell commands; a command that YAML read as a map gets a hint to quote it."""
    if isinstance(node, yaml.ScalarNode):
        return reader.strings(node, path, "commands")
    commands: list[str] = []
    for index, item in enumerate(reader.sequence(node, path, "commands", "commands: [make test]")):
        if isinstance(item, yaml.MappingNode):
            reader.error(
                item,
                (*path, index),
                "this command was read as a map because it contains ': '",
                "put the whole command in quotes",
            )
            continue
        commands.append(reader.string(item, (*path, index), "a command"))
    return commands


def _read_pairs(reader: Reader, node: Node, path: Path, what: str, second: str) -> list[tuple[str, str]]:
    """A list of `{name: ..., path: ...}` maps."""
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(
        reader.sequence(node, path, f"{what}s", f"- name: cache\n  {second}: /cache")
    ):
        values = {"name": "", second: ""}
        for key, key_node, value in reader.mapping(item, (*path, index), f"a {what}"):
            if key in values:
                values[key] = reader.string(value, (*path, index, key), key)
            else:
                reader.unknown_key(key_node, (*path, index), key, values, f"a {what}")
        if not values["name"] or not values[second]:
            reader.error(item, (*path, index), f"a {what} needs both `name` and `{second}`")
            continue
        pairs.append((values["name"], values[second]))
    return pairs


def _check_required(reader: Reader, step: Step, node: Node, path: Path, what: str) -> None:
    """Every step needs a name and an image."""
    if not step.name:
        reader.error(node, (*path, "name"), f"{what} has no name", "every step needs a name, e.g. name: test")
    elif len(step.name) > MAX_NAME:
        reader.error(node, (*path, "name"), f"the name is longer than {MAX_NAME} characters")
    if not step.image:
        kind = what.removeprefix("a ")
        subject = f"{kind} {step.name!r}" if step.name else what
        hint = f"every {kind} needs an image, e.g. image: python:3.11"
        reader.error(node, (*path, "image"), f"{subject} has no image", hint)
