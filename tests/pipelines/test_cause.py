"""The one declaration of what a build is about: the compiler's context inherits it."""

from __future__ import annotations

from pipelines import BuildContext, cause_of
from tests.pipelines.causes import every_field_set


def test_a_context_carries_every_field_of_its_cause_under_the_same_name() -> None:
    cause = every_field_set()
    context = BuildContext(**cause.model_dump(), number=3)

    assert cause_of(context) == cause


def test_a_copied_cause_shares_nothing_with_its_source() -> None:
    cause = every_field_set()
    copy = cause_of(cause)
    copy.parameters["MORE"] = "x"

    assert "MORE" not in cause.parameters
