"""Table columns come from the pure model's fields: a field added there is a column of its type here."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy import JSON, Text, create_engine, inspect
from sqlalchemy.orm import registry
from sqlmodel import Field as ColumnField
from sqlmodel import Session, SQLModel, select

from pipelines import BuildCause
from pipelines.cause import LongText
from server.db.columns import columns_of
from server.db.models import Build


class TicketedCause(BuildCause):
    """The cause with fields a future change might add."""

    ticket: Annotated[str, LongText()] = ""
    labels: list[str] = Field(default_factory=list)
    priority: int = 3


class _Private(SQLModel, registry=registry()):
    """Tables of these tests, kept out of the application's metadata (which Alembic compares)."""


class TicketedBuild(_Private, columns_of(TicketedCause), table=True):  # type: ignore[misc]
    __tablename__ = "ticketed_builds"

    id: int | None = ColumnField(default=None, primary_key=True)


def test_a_field_added_to_the_model_becomes_a_column_of_its_type() -> None:
    columns = TicketedBuild.__table__.columns

    assert set(TicketedCause.model_fields) | {"id"} == {column.name for column in columns}
    assert isinstance(columns["ticket"].type, Text) and isinstance(columns["message"].type, Text)
    assert isinstance(columns["labels"].type, JSON) and isinstance(columns["parameters"].type, JSON)
    assert not any(column.nullable for column in columns if column.name != "id")

    engine = create_engine("sqlite://")
    _Private.metadata.create_all(engine)
    created = {column["name"] for column in inspect(engine).get_columns("ticketed_builds")}
    assert created == {column.name for column in columns}
    with Session(engine) as session:
        session.add(TicketedBuild.model_validate({"ticket": "long\n" * 1000, "labels": ["x"], "sha": "abc"}))
        session.commit()
    with Session(engine) as session:
        stored = session.exec(select(TicketedBuild)).one()
        assert (stored.ticket.count("\n"), stored.labels, stored.priority) == (1000, ["x"], 3)
        assert stored.sha == "abc"


def test_the_builds_table_has_a_column_per_field_of_the_cause_and_its_own_beside() -> None:
    columns = {column.name for column in Build.__table__.columns}  # type: ignore[attr-defined]

    assert set(BuildCause.model_fields) <= columns
    assert {"id", "repo_id", "number", "status", "error", "context"} <= columns
