"""The one declaration of what a build is about: the context inherits it; pipelines stays database-free."""

from __future__ import annotations

import subprocess
import sys

from pipelines import BuildCause, BuildContext, cause_of
from tests.pipelines.causes import every_field_set


def test_a_context_carries_every_field_of_its_cause_under_the_same_name() -> None:
    cause = every_field_set()
    context = BuildContext(**cause.model_dump(), number=3)

    assert cause_of(context) == cause
    assert context.model_dump(include=set(BuildCause.model_fields)) == cause.model_dump()


def test_a_copied_cause_shares_nothing_with_its_source() -> None:
    cause = every_field_set()
    copy = cause_of(cause)
    copy.parameters["MORE"] = "x"

    assert "MORE" not in cause.parameters


def test_the_pipelines_package_imports_no_database_library() -> None:
    script = (
        "import pkgutil, importlib, sys, pipelines\n"
        "for module in pkgutil.walk_packages(pipelines.__path__, 'pipelines.'):\n"
        "    importlib.import_module(module.name)\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'sqlalchemy', 'sqlmodel', 'server'}))\n"
    )
    imported = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "[]"
