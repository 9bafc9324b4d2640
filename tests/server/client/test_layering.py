"""The client speaks HTTP only: its import contract holds, and an import of a server module breaks it."""

from __future__ import annotations

from pathlib import Path

from tests.test_layering import PACKAGES, _lint_imports

CONTRACT = "the API client imports no other server module"


def _tree(tmp_path: Path, client_module: str) -> Path:
    """The four packages with `server.client.output` (as given) and an empty `server.api.views`."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for folder in ("server/client", "server/api"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "server/api/views.py").write_text("")
    (tmp_path / "server/client/http.py").write_text("import httpx\n")
    (tmp_path / "server/client/output.py").write_text(client_module)
    return tmp_path


def test_the_client_may_import_itself_and_pipelines(tmp_path: Path) -> None:
    allowed = "import pipelines\nimport server.client.http\n"
    result = _lint_imports(_tree(tmp_path, allowed))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_server_module_imported_by_the_client_breaks_its_contract(tmp_path: Path) -> None:
    result = _lint_imports(_tree(tmp_path, "def later() -> None:\n    import server.api.views\n"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert CONTRACT in result.stdout.split("Broken contracts", 1)[-1]
    assert "server.client.output -> server.api.views" in result.stdout
