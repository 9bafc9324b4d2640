"""Requests and answers of forges without an OpenAPI description here (Gitea, GitLab), checked against their
published API documentation written down as pydantic models: each request body must be one of the documented
options (no unknown field, each field of its documented type), each answer must carry the fields and types the
documentation gives."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError


def check(problems: list[str], where: str, model: type[BaseModel], value: Any) -> bool:
    """Whether `value` is a `model` (the reason kept in `problems` otherwise)."""
    try:
        model.model_validate(value)
    except ValidationError as exc:
        problems.append(f"{where}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        return False
    return True


def check_query(problems: list[str], where: str, query: dict[str, str], allowed: set[str]) -> bool:
    """Whether the query names only documented parameters, with whole numbers for paging."""
    unknown = set(query) - allowed
    paging = [name for name in ("page", "per_page", "limit") if name in query and not query[name].isdigit()]
    if unknown or paging:
        problems.append(f"{where}: undocumented query parameters {sorted(unknown)} or paging {paging}")
        return False
    return True
