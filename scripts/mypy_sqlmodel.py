"""A mypy plugin: SQLModel classes are typed by pydantic's plugin, like every other pydantic model.

SQLModel marks its metaclass `dataclass_transform`, and mypy's dataclass support builds a table's `__init__`
only from fields declared on dataclass-like classes, so a table inheriting the fields of a plain pydantic
model (`server.db.models.Build` inherits `pipelines.cause.BuildCause`) would not accept them as keywords.
Pydantic's plugin handles every field a model inherits; it already drops the same marker from pydantic's
own metaclass, and this does so for SQLModel's.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.plugin import ClassDefContext, Plugin

SQLMODEL_METACLASS = "sqlmodel.main.SQLModelMetaclass"


class SQLModelPlugin(Plugin):
    """Leaves SQLModel classes to pydantic's plugin."""

    def get_metaclass_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        """The hook for classes whose metaclass is SQLModel's."""
        return _drop_dataclass_transform if fullname == SQLMODEL_METACLASS else None


def _drop_dataclass_transform(ctx: ClassDefContext) -> None:
    metaclass = ctx.cls.info.declared_metaclass
    if metaclass is not None:
        metaclass.type.dataclass_transform_spec = None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return SQLModelPlugin
