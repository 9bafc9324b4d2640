"""Handlers only translate requests: an endpoint module (one defining `routes`) is imported by no other
endpoint module and by nothing of the core; what the API and the pages share lives in modules without routes
(`server.actions`, `server.api.access`, ...). Only the route tables gather endpoint modules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
HANDLER_PACKAGES = ("server.api", "server.web")
ROUTE_TABLES = frozenset({"server.app", "server.api.rest", "server.web.routes"})
"""The modules that gather the endpoint modules' routes into the application."""


def _modules(root: Path) -> dict[str, ast.Module]:
    """Every module of the `server` package under `root`, parsed, by dotted name."""
    found: dict[str, ast.Module] = {}
    for path in sorted((root / "server").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def _defines_routes(module: ast.Module) -> bool:
    for node in module.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(target, ast.Name) and target.id == "routes" for target in targets):
            return True
    return False


def _imports(module: ast.Module, known: set[str]) -> set[str]:
    """The modules `module` imports anywhere (inside functions too); `from package import module` included."""
    names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names & known


def breaches(root: Path) -> list[str]:
    """`importer -> endpoint` for every import of an endpoint module outside the route tables."""
    modules = _modules(root)
    handlers = {
        name for name in modules if name.startswith(tuple(f"{package}." for package in HANDLER_PACKAGES))
    }
    endpoints = {name for name in handlers if _defines_routes(modules[name])}
    found = []
    for importer, module in modules.items():
        if importer in ROUTE_TABLES:
            continue
        if importer in handlers and importer not in endpoints:
            continue  # a helper of the handlers (e.g. the OpenAPI document's schemas of request bodies)
        found += [
            f"{importer} -> {imported}" for imported in sorted(_imports(module, endpoints) - {importer})
        ]
    return found


def test_no_endpoint_module_imports_another_and_the_core_imports_none() -> None:
    assert breaches(ROOT) == []


def test_a_page_importing_an_api_endpoint_is_caught(tmp_path: Path) -> None:
    files = {
        "server/__init__.py": "",
        "server/api/__init__.py": "",
        "server/api/builds.py": "routes = []\n",
        "server/web/__init__.py": "",
        "server/web/pages.py": "def later() -> None:\n    from server.api import builds\n\nroutes = []\n",
        "server/actions/__init__.py": "",
        "server/actions/builds.py": "import server.web.pages\n",
        "server/web/routes.py": "from server.web import pages\n\nroutes = [*pages.routes]\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert breaches(tmp_path) == [
        "server.actions.builds -> server.web.pages",
        "server.web.pages -> server.api.builds",
    ]
