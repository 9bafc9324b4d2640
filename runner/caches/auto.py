"""Automatic caches: the common lockfiles, and the variables that point each tool at a kept folder.

A tool's cache lives in the stage's cache volume (`/hangar/cache/<tool>`, never in the checkout, so a
`docker build .` or `git status` never sees it). A variable is set only for a step that does not set it
itself. What is left out, and why:

- Cargo: only `CARGO_HOME` moves the registry, and it moves cargo's config and installed binaries with it
  (the official rust image keeps `cargo` itself in `/usr/local/cargo/bin` under `CARGO_HOME`); declare a
  `cache:` with your own `CARGO_HOME` under the workspace instead.
- Bundler: `BUNDLE_PATH` would move where gems are installed (an image's preinstalled gems would vanish),
  so only its download cache is kept (`BUNDLE_USER_CACHE` with `BUNDLE_GLOBAL_GEM_CACHE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

CACHE_DIR = "/hangar/cache"
"""Where the stage's cache volume is mounted in every step container."""


@dataclass(frozen=True)
class Tool:
    """A tool whose downloads are kept when one of its lockfiles is at the workspace root (or one down)."""

    name: str
    lockfiles: tuple[str, ...]
    variables: Mapping[str, str]
    """Each variable's value; `{folder}` is the tool's cache folder."""

    @property
    def folder(self) -> str:
        """The tool's folder in the cache volume."""
        return f"{CACHE_DIR}/{self.name}"

    @property
    def patterns(self) -> tuple[str, ...]:
        """The lockfile globs, at the root and one folder down."""
        return (*self.lockfiles, *(f"*/{name}" for name in self.lockfiles))

    def environment(self) -> dict[str, str]:
        """The variables with the folder filled in."""
        return {name: value.format(folder=self.folder) for name, value in self.variables.items()}


TOOLS = (
    Tool("pip", ("requirements*.txt",), {"PIP_CACHE_DIR": "{folder}"}),
    Tool("poetry", ("poetry.lock",), {"POETRY_CACHE_DIR": "{folder}"}),
    Tool("uv", ("uv.lock",), {"UV_CACHE_DIR": "{folder}"}),
    Tool("npm", ("package-lock.json",), {"npm_config_cache": "{folder}"}),
    Tool("yarn", ("yarn.lock",), {"YARN_CACHE_FOLDER": "{folder}"}),
    Tool("pnpm", ("pnpm-lock.yaml",), {"npm_config_store_dir": "{folder}"}),
    Tool("go", ("go.sum",), {"GOMODCACHE": "{folder}/mod", "GOCACHE": "{folder}/build"}),
    Tool("maven", ("pom.xml",), {"MAVEN_OPTS": "-Dmaven.repo.local={folder}"}),
    Tool("bundler", ("Gemfile.lock",), {"BUNDLE_USER_CACHE": "{folder}", "BUNDLE_GLOBAL_GEM_CACHE": "true"}),
)
