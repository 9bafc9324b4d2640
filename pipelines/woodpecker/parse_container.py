"""Reading a Woodpecker step, service or clone step, and its `depends_on`."""

from __future__ import annotations

import yaml

from pipelines.parse_step import read_commands
from pipelines.parse_values import known_entries, span_of
from pipelines.woodpecker.model import Container, Dependency
from pipelines.woodpecker.parse_when import read_when
from pipelines.woodpecker.values import is_empty, texts, variable_value
from pipelines.yamltree import Node, Path, Reader

CONTAINER_KEYS = (
    "name", "image", "pull", "commands", "entrypoint", "directory", "settings", "environment", "depends_on",
    "when", "failure", "detach", "volumes", "ports", "dns", "dns_search", "backend_options", "privileged",
    "devices", "extra_hosts", "network_mode", "tmpfs", "secrets", "group",
)  # fmt: skip
FAILURES = ("fail", "ignore", "cancel")
_LISTS = ("volumes", "ports", "dns", "dns_search", "devices", "extra_hosts", "tmpfs")


def read_containers(reader: Reader, node: Node, path: Path, what: str) -> list[Container]:
    """`steps`, `services` or `clone`: a list of containers with `name`, or a map of name -> container."""
    if isinstance(node, yaml.MappingNode):
        containers = []
        for key, key_node, value in reader.mapping(node, path, what):
            container = read_container(reader, value, (*path, key), what)
            if container is not None:
                container.name = container.name or key
                container.spans.setdefault("name", span_of(key_node, (*path, key)))
                containers.append(container)
        return containers
    example = f"{what}:\n  - name: test\n    image: alpine\n    commands: [make test]"
    items = reader.sequence(node, path, what, example)
    found = [read_container(reader, item, (*path, i), what) for i, item in enumerate(items)]
    return [container for container in found if container is not None]


def read_container(reader: Reader, node: Node, path: Path, what: str) -> Container | None:
    """One container map; None when it is not a map."""
    kind = {"steps": "a step", "services": "a service", "clone": "a clone step"}.get(what, "a step")
    entries = reader.mapping(node, path, kind, "image: alpine\ncommands: [echo hello]")
    if not isinstance(node, yaml.MappingNode):
        return None
    container = Container(name="")
    container.spans[""] = span_of(node, path)
    for key, value, here in known_entries(reader, entries, path, CONTAINER_KEYS, kind, container.spans):
        _read_key(reader, container, key, value, here)
    return container


def _read_key(reader: Reader, container: Container, key: str, value: Node, here: Path) -> None:
    if key in ("name", "image", "directory", "network_mode", "group"):
        setattr(container, key, reader.string(value, here, key))
    elif key in ("pull", "detach", "privileged"):
        setattr(container, key, reader.boolean(value, here, key))
    elif key == "commands":
        container.commands = read_commands(reader, value, here)
    elif key == "entrypoint":
        container.entrypoint = texts(reader, value, here, key)
    elif key in _LISTS:
        setattr(container, key, texts(reader, value, here, key))
    elif key == "failure":
        container.failure = reader.string(value, here, "failure")
        if container.failure not in FAILURES:
            reader.error(value, here, f"failure {container.failure!r} is not one of {', '.join(FAILURES)}")
    elif key in ("settings", "environment"):
        found: dict[str, object] = {}
        for name, _, item in reader.mapping(value, here, key, f"{key}: {{NAME: value}}"):
            text = variable_value(reader, item, (*here, name))
            if text is not None:
                found[name] = text
        setattr(container, key, found)
    elif key == "depends_on":
        container.depends_on = read_dependencies(reader, value, here)
    elif key == "when":
        container.when = read_when(reader, value, here, step=True)
    elif key == "secrets":
        container.secrets = _secrets(reader, value, here)
    elif key == "backend_options":
        _backend_options(reader, container, value, here)


def read_dependencies(reader: Reader, node: Node, path: Path) -> list[Dependency]:
    """A name, a list of names, or `{name: x, optional: true}` entries."""
    if isinstance(node, yaml.ScalarNode):
        return [] if is_empty(node) else [Dependency(reader.text(node, path))]
    dependencies: list[Dependency] = []
    for index, item in enumerate(reader.sequence(node, path, "depends_on", "depends_on: [build]")):
        here = (*path, index)
        if isinstance(item, yaml.MappingNode):
            values = {key: value for key, _, value in reader.mapping(item, here, "a dependency")}
            name = reader.string(values["name"], (*here, "name"), "name") if "name" in values else ""
            optional = "optional" in values and reader.boolean(
                values["optional"], (*here, "optional"), "optional"
            )
            if not name:
                reader.error(item, here, "a dependency needs a `name`", "- name: build\n  optional: true")
                continue
            dependencies.append(Dependency(name, optional))
        else:
            dependencies.append(Dependency(reader.string(item, here, "a dependency")))
    return dependencies


def _secrets(reader: Reader, node: Node, path: Path) -> dict[str, str]:
    """Woodpecker 1.x's `secrets: [name]` or `[{source: name, target: VARIABLE}]` (deprecated)."""
    found: dict[str, str] = {}
    for index, item in enumerate(reader.sequence(node, path, "secrets")):
        if isinstance(item, yaml.MappingNode):
            values = {k: reader.string(v, (*path, index, k), k) for k, _, v in reader.mapping(item, path, "")}
            source, target = values.get("source", ""), values.get("target", "")
            if source:
                found[(target or source).upper()] = source
        else:
            name = reader.string(item, (*path, index), "a secret name")
            if name:
                found[name.upper()] = name
    if found:
        example = ", ".join(f"{var}: {{from_secret: {name}}}" for var, name in found.items())
        reader.warn(
            node,
            path,
            "`secrets:` is Woodpecker 1.x syntax (removed in 2.0)",
            f"write `environment: {{{example}}}`",
        )
    return found


def _backend_options(reader: Reader, container: Container, node: Node, path: Path) -> None:
    """`docker.user` is used; other backends' options are ignored (Hangar runs containers on Docker)."""
    for key, key_node, value in reader.mapping(node, path, "backend_options"):
        if key == "docker":
            for option, option_node, option_value in reader.mapping(value, (*path, key), "docker"):
                if option == "user":
                    container.user = reader.string(option_value, (*path, key, option), "user")
                else:
                    reader.unknown_key(option_node, (*path, key), option, ("user",), "docker options")
        else:
            reader.warn(
                key_node,
                (*path, key),
                f"the {key} backend's options are ignored: Hangar runs every step as a Docker container",
            )
