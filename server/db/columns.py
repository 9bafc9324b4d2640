"""Table columns from a pure pydantic model of `pipelines`: one column per field, declared only there."""

from __future__ import annotations

from typing import Any, cast, get_origin

from pydantic import BaseModel, create_model
from pydantic.fields import FieldInfo
from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from pipelines.cause import LongText


def columns_of(model: type[BaseModel]) -> type[SQLModel]:
    """A non-table SQLModel base inheriting `model` whose every field is a NOT NULL column of a table.

    The column's type is SQLModel's for the field's type, except TEXT for a `LongText` string and JSON for
    a dict or a list; the field's default is the column's.
    """
    bases: tuple[type[BaseModel], ...] = (SQLModel, model)
    fields: dict[str, Any] = {
        name: (field.annotation, _column(field)) for name, field in model.model_fields.items()
    }
    base = create_model(f"{model.__name__}Columns", __base__=bases, __module__=__name__, **fields)
    return cast("type[SQLModel]", base)


def _column(field: FieldInfo) -> Any:
    options: dict[str, Any] = {"nullable": False, "description": field.description}
    if any(isinstance(meta, LongText) for meta in field.metadata):
        options["sa_type"] = Text
    elif get_origin(field.annotation) in (dict, list):
        options["sa_type"] = JSON
    if field.default_factory is not None:
        options["default_factory"] = field.default_factory
    else:
        options["default"] = field.default
    return Field(**options)
