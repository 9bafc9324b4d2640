"""Reading a pipeline file: YAML documents -> Manifest, with every problem located."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import yaml

from pipelines.errors import ConfigError, Problem, Severity
from pipelines.model import Clone, Manifest, Pipeline, Platform, Secret, Unsupported, Volume, Workspace
from pipelines.parse_cache import read_caches
from pipelines.parse_step import read_step
from pipelines.parse_values import known_entries, read_conditions, read_environment, span_of
from pipelines.yamltree import Node, Path, Reader, load_documents

PIPELINE_KEYS = (
    "kind", "type", "name", "version", "platform", "workspace", "clone", "steps", "services", "volumes",
    "environment", "trigger", "depends_on", "node", "concurrency", "image_pull_secrets", "cache",
)  # fmt: skip
SUPPORTED_TYPES = ("docker", "")
KNOWN_KINDS = ("pipeline", "secret", "signature")
SERVER_KINDS = ("cron", "registry", "template")
_LEGACY_04_KEYS = ("build", "publish", "notify", "deploy", "compose", "cache")
_DRONE_08_HELP = (
    "Drone 1.x (which Hangar reads) starts each pipeline with `kind: pipeline` and `type: docker`, "
    "turns the `pipeline:` map into a `steps:` list where each step has a `name:`, "
    "and moves `branches:` into `trigger: {branch: ...}`"
)


def parse(
    text: str,
    filename: str = ".ci.yml",
    *,
    substitute: Callable[[str], str] | None = None,
    check_string: Callable[[str], str | None] | None = None,
) -> Manifest:
    """Read every document of a pipeline file; problems are collected on the Manifest, not raised.

    substitute rewrites each string value (`${VAR}` forms); check_string returns a reason a string is
    malformed. A YAML syntax error is the one problem that stops reading: it is returned as the only one.
    """
    manifest = Manifest(filename)
    try:
        documents = load_documents(text, filename)
    except ConfigError as exc:
        manifest.problems.extend(exc.problems)
        return manifest
    reader = Reader(filename, manifest.problems, substitute, check_string)
    for index, root in enumerate(documents):
        _read_document(reader, manifest, root, index, len(documents) > 1)
    if not documents:
        manifest.problems.append(Problem(Severity.ERROR, "the file has no pipeline in it", filename, 1, 1))
    return manifest


def _read_document(reader: Reader, manifest: Manifest, root: Node, index: int, several: bool) -> None:
    """One `---` document, dispatched by its `kind`."""
    path: Path = (f"document {index + 1}",) if several else ()
    if not isinstance(root, yaml.MappingNode):
        reader.error(root, path, "a document must be a map with a `kind:`", "start with `kind: pipeline`")
        return
    keys = {str(k.value): (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    kind_entry = keys.get("kind")
    if kind_entry is None:
        _read_kindless(reader, keys, root, path)
        return
    kind = reader.string(kind_entry[1], (*path, "kind"), "kind")
    if kind == "pipeline":
        _read_pipeline(reader, manifest, root, path, index, several)
    elif kind == "secret":
        _read_secret(reader, manifest, root, path)
    elif kind == "signature":
        manifest.signatures.append(
            reader.string(keys["hmac"][1], (*path, "hmac"), "hmac") if "hmac" in keys else ""
        )
    elif kind in SERVER_KINDS:
        reader.warn(
            kind_entry[1], (*path, "kind"), f"`kind: {kind}` is configured on the server, not in this file"
        )
    else:
        reader.warn(
            kind_entry[1],
            (*path, "kind"),
            f"unknown kind {kind!r} is ignored",
            f"one of {', '.join(KNOWN_KINDS)}",
        )


def _read_kindless(reader: Reader, keys: Mapping[str, tuple[Node, Node]], root: Node, path: Path) -> None:
    """A document without `kind`: recognise Drone 0.8 and 0.3/0.4 files and say how 1.x differs."""
    if "pipeline" in keys:
        key_node = keys["pipeline"][0]
        reader.error(key_node, path, "this is Drone 0.8 syntax (a top-level `pipeline:` map)", _DRONE_08_HELP)
        return
    legacy = [key for key in _LEGACY_04_KEYS if key in keys]
    if legacy and "steps" not in keys:
        reader.error(
            keys[legacy[0]][0],
            path,
            f"this is Drone 0.3/0.4 syntax (a top-level `{legacy[0]}:` section)",
            "rewrite it in Drone 1.x syntax: `kind: pipeline`, `type: docker` and a `steps:` list",
        )
        return
    if "steps" in keys and ("when" in keys or not isinstance(keys["steps"][1], yaml.SequenceNode)):
        reader.error(
            keys["steps"][0],
            path,
            "this looks like a Woodpecker pipeline in a Drone file",
            "Hangar reads Woodpecker files as `.woodpecker.yaml` or `.woodpecker/*.yaml`; or, in Drone"
            " syntax, add `kind: pipeline` and `type: docker`, write `steps:` as a list of named steps,"
            " and move a top-level `when:` to `trigger:`",
        )
        return
    reader.error(
        root, (*path, "kind"), "the document has no `kind`", "start the document with `kind: pipeline`"
    )


def _read_pipeline(
    reader: Reader, manifest: Manifest, root: Node, path: Path, index: int, several: bool
) -> None:
    """A `kind: pipeline` document."""
    pipeline = Pipeline(document=index)
    pipeline.spans[""] = span_of(root, path)
    entries = reader.mapping(root, path, "a pipeline")
    values = {key: value for key, _, value in entries}
    if "name" in values:
        pipeline.name = reader.string(values["name"], (*path, "name"), "name") or "default"
    if "type" in values:
        pipeline.type = reader.string(values["type"], (*path, "type"), "type")
    if pipeline.type not in SUPPORTED_TYPES:
        span = span_of(values["type"], (*path, "type"))
        manifest.unsupported.append(Unsupported(pipeline.name, pipeline.type, span))
        return
    pipeline.type = "docker"
    if several:
        path = (f"pipeline {pipeline.name!r}",)
    for key, value, here in known_entries(reader, entries, path, PIPELINE_KEYS, "a pipeline", pipeline.spans):
        _read_pipeline_key(reader, pipeline, key, value, here)
    if "steps" not in values:
        reader.error(
            root, (*path, "steps"), f"pipeline {pipeline.name!r} has no steps", "add a `steps:` list"
        )
    manifest.pipelines.append(pipeline)


def _read_pipeline_key(reader: Reader, pipeline: Pipeline, key: str, value: Node, here: Path) -> None:
    """Store one top-level key's value on the pipeline."""
    if key in ("steps", "services"):
        items = reader.sequence(value, here, key, f"{key}:\n  - name: test\n    image: python:3.11")
        steps = [
            read_step(reader, item, (*here, i), is_service=key == "services") for i, item in enumerate(items)
        ]
        setattr(pipeline, key, [step for step in steps if step is not None])
    elif key == "platform":
        values = _string_map(reader, value, here, "platform", ("os", "arch", "variant", "version"))
        pipeline.platform = Platform(**{k: v for k, v in values.items() if v})
    elif key == "workspace":
        pipeline.workspace = Workspace(**_string_map(reader, value, here, "workspace", ("base", "path")))
    elif key == "clone":
        pipeline.clone = _read_clone(reader, value, here)
    elif key == "volumes":
        pipeline.volumes = _read_volumes(reader, value, here)
    elif key == "environment":
        pipeline.environment = read_environment(reader, value, here, "environment")
    elif key == "trigger":
        pipeline.trigger = read_conditions(reader, value, here, "trigger")
    elif key == "depends_on":
        pipeline.depends_on = reader.strings(value, here, "depends_on", "depends_on: [build]")
    elif key == "node":
        pipeline.node = {
            k: reader.string(v, (*here, k), k) for k, _, v in reader.mapping(value, here, "node")
        }
    elif key == "concurrency":
        limits = reader.mapping(value, here, "concurrency", "concurrency: {limit: 1}")
        pipeline.concurrency_limit = next(
            (reader.integer(v, (*here, k), "limit") for k, _, v in limits if k == "limit"), 0
        )
    elif key == "image_pull_secrets":
        pipeline.image_pull_secrets = reader.strings(value, here, "image_pull_secrets")
    elif key == "cache":
        pipeline.caches = read_caches(reader, value, here)


def _string_map(reader: Reader, node: Node, path: Path, what: str, known: tuple[str, ...]) -> dict[str, str]:
    """A small map of text values with a fixed set of keys."""
    values: dict[str, str] = {}
    for key, key_node, value in reader.mapping(node, path, what):
        if key in known:
            values[key] = reader.string(value, (*path, key), key)
        else:
            reader.unknown_key(key_node, path, key, known, what)
    return values


def _read_clone(reader: Reader, node: Node, path: Path) -> Clone:
    """The `clone:` block."""
    clone = Clone()
    for key, key_node, value in reader.mapping(node, path, "clone", "clone: {depth: 50}"):
        if key in ("disable", "skip_verify", "trace"):
            setattr(clone, key, reader.boolean(value, (*path, key), key))
        elif key in ("depth", "retries"):
            setattr(clone, key, reader.integer(value, (*path, key), key))
        else:
            reader.unknown_key(
                key_node, path, key, ("disable", "depth", "retries", "skip_verify", "trace"), "clone"
            )
    return clone


def _read_volumes(reader: Reader, node: Node, path: Path) -> list[Volume]:
    """Pipeline volumes: `temp: {}` (optionally `medium: memory`) or `host: {path: ...}`."""
    volumes: list[Volume] = []
    for index, item in enumerate(
        reader.sequence(node, path, "volumes", "volumes:\n  - name: cache\n    temp: {}")
    ):
        here = (*path, index)
        volume = Volume(name="", span=span_of(item, here))
        for key, key_node, value in reader.mapping(item, here, "a volume"):
            if key == "name":
                volume.name = reader.string(value, (*here, key), "name")
            elif key == "temp":
                for k, _, v in reader.mapping(value, (*here, key), "temp"):
                    if k == "medium":
                        volume.medium = reader.string(v, (*here, key, k), "medium")
            elif key == "host":
                volume.temp = False
                for k, _, v in reader.mapping(value, (*here, key), "host", "host: {path: /var/cache}"):
                    if k == "path":
                        volume.host_path = reader.string(v, (*here, key, k), "path")
                if not volume.host_path:
                    reader.error(
                        value, (*here, key), "a host volume needs a path", "host: {path: /var/cache}"
                    )
            else:
                reader.unknown_key(key_node, here, key, ("name", "temp", "host"), "a volume")
        if not volume.name:
            reader.error(item, (*here, "name"), "a volume needs a name", "- name: cache")
        volumes.append(volume)
    return volumes


def _read_secret(reader: Reader, manifest: Manifest, root: Node, path: Path) -> None:
    """A `kind: secret` document."""
    secret = Secret(name="")
    for key, _, value in reader.mapping(root, path, "a secret"):
        if key == "name":
            secret.name = reader.string(value, (*path, key), "name")
        elif key == "data":
            secret.data = reader.string(value, (*path, key), "data")
        elif key == "get":
            for k, _, v in reader.mapping(value, (*path, key), "get"):
                if k in ("path", "name"):
                    setattr(secret, f"get_{k}", reader.string(v, (*path, key, k), k))
    if not secret.name:
        reader.error(root, (*path, "name"), "a secret needs a name")
    manifest.secrets.append(secret)
