"""The Plan is the wire format between server and runner: it survives JSON both ways, unchanged."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipelines import BuildContext, Plan, compile_file
from tests.pipelines.golden_support import GOLDEN, golden_cases, load_context

COMPILING = [name for name in golden_cases() if '"errors"' not in (GOLDEN / f"{name}.json").read_text()]


@pytest.mark.parametrize("name", COMPILING)
def test_plans_round_trip_through_json(name: str) -> None:
    text = (GOLDEN / f"{name}.yml").read_text()
    context, _ = load_context(text)
    plans = compile_file(text, context).plans
    assert plans
    for plan in plans:
        assert Plan.model_validate_json(plan.model_dump_json()) == plan


def test_wire_models_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        BuildContext.model_validate({"event": "push", "surprise": 1})
