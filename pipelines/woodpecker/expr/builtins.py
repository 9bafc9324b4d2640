"""The builtin functions of expr-lang/expr that Hangar's `evaluate` knows (strings, lists, conversions, JSON,
and the predicate functions), and Go's names for value types in error messages."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pipelines.woodpecker.expr.errors import ExpressionError

Each = Callable[[Any], Any]
Number = TypeVar("Number", int, float)


_GO_TYPES: tuple[tuple[type, str], ...] = (
    (type(None), "<nil>"),
    (bool, "bool"),  # before int: a bool is an int to isinstance
    (int, "int"),
    (float, "float64"),
    (str, "string"),
    (list, "[]interface {}"),
    (Mapping, "map[string]interface {}"),
)


def go_type(value: Any) -> str:
    """The Go type expr's messages name for a value (`func` for anything but data)."""
    return next((name for kind, name in _GO_TYPES if isinstance(value, kind)), "func")


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ExpressionError(f"invalid argument for {name} (type {go_type(value)})")
    return value


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ExpressionError(f"invalid argument for {name} (type {go_type(value)})")
    return value


def _length(value: Any) -> int:
    if isinstance(value, (str | list, Mapping)):
        return len(value)
    raise ExpressionError(f"invalid argument for len (type {go_type(value)})")


def _trim(value: Any, chars: Any = None) -> str:
    text = _string(value, "trim")
    return text.strip() if chars is None else text.strip(_string(chars, "trim"))


def _split(value: Any, separator: Any, count: Any = -1) -> list[str]:
    text, sep = _string(value, "split"), _string(separator, "split")
    if count == 0:
        return []
    if sep == "":
        parts = list(text)
        return parts if count < 0 else [*parts[: count - 1], "".join(parts[count - 1 :])]
    return text.split(sep) if count < 0 else text.split(sep, count - 1)


def _to_int(value: Any) -> int:
    return _to_number(value, int, "Atoi")


def _to_float(value: Any) -> float:
    return _to_number(value, float, "ParseFloat")


def _to_number(value: Any, kind: type[Number], parser: str) -> Number:
    """expr's `int()` and `float()`: a number converts, a string is parsed (Go's strconv.`parser` fails
    as in Go), any other value (a bool too) is an invalid operation."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return kind(value)
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            raise ExpressionError(f'strconv.{parser}: parsing "{value}": invalid syntax') from None
    raise ExpressionError(f"invalid operation: {kind.__name__}({go_type(value)})")


def to_text(value: Any) -> str:
    """Go's `%v` of a value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, list):
        return "[" + " ".join(to_text(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{to_text(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 64) with %v's exponent threshold (21)."""
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    power = int(exponent) if exponent else 0
    if not exponent:
        return text.removesuffix(".0")
    if -4 <= power < 21:
        return format(value, "f").rstrip("0").rstrip(".")
    return f"{mantissa.removesuffix('.0')}e{'+' if power >= 0 else '-'}{abs(power):02d}"


def _minmax(pick: Callable[..., Any]) -> Callable[..., Any]:
    def function(*values: Any) -> Any:
        items = values[0] if len(values) == 1 and isinstance(values[0], list) else list(values)
        if not items or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in items):
            raise ExpressionError("invalid argument")
        return pick(items)

    return function


def _predicate(kind: str) -> Callable[[Any, Each], Any]:
    def function(items: Any, each: Each) -> Any:
        values = _list(items, kind) if items is not None else []
        if kind == "map":
            return [each(v) for v in values]
        results = [(v, each(v)) for v in values]
        for _, result in results:
            if not isinstance(result, bool):
                raise ExpressionError(f"predicate should return boolean (got {go_type(result)})")
        matches = [v for v, result in results if result]
        table: dict[str, Any] = {
            "all": len(matches) == len(values),
            "none": not matches,
            "any": bool(matches),
            "one": len(matches) == 1,
            "filter": matches,
            "count": len(matches),
            "find": matches[0] if matches else None,
            "findIndex": next((i for i, (_, r) in enumerate(results) if r), -1),
        }
        return table[kind]

    return function


BUILTINS: dict[str, Callable[..., Any]] = {
    "len": _length,
    "lower": lambda s: _string(s, "lower").lower(),
    "upper": lambda s: _string(s, "upper").upper(),
    "trim": _trim,
    "trimPrefix": lambda s, p: _string(s, "trimPrefix").removeprefix(_string(p, "trimPrefix")),
    "trimSuffix": lambda s, p: _string(s, "trimSuffix").removesuffix(_string(p, "trimSuffix")),
    "replace": lambda s, old, new: _string(s, "replace").replace(
        _string(old, "replace"), _string(new, "replace")
    ),
    "repeat": lambda s, n: _string(s, "repeat") * _to_int(n),
    "split": _split,
    "splitAfter": lambda s, sep: [p + sep for p in _split(s, sep)[:-1]] + _split(s, sep)[-1:],
    "indexOf": lambda s, sub: _string(s, "indexOf").find(_string(sub, "indexOf")),
    "lastIndexOf": lambda s, sub: _string(s, "lastIndexOf").rfind(_string(sub, "lastIndexOf")),
    "hasPrefix": lambda s, p: _string(s, "hasPrefix").startswith(_string(p, "hasPrefix")),
    "hasSuffix": lambda s, p: _string(s, "hasSuffix").endswith(_string(p, "hasSuffix")),
    "join": lambda items, sep="": _string(sep, "join").join(to_text(v) for v in _list(items, "join")),
    "int": _to_int,
    "float": _to_float,
    "string": to_text,
    "abs": lambda v: abs(_to_float(v)) if isinstance(v, float) else abs(_to_int(v)),
    "min": _minmax(min),
    "max": _minmax(max),
    "fromJSON": lambda s: json.loads(_string(s, "fromJSON")),
    "toJSON": lambda v: json.dumps(v, indent=2, ensure_ascii=False),
    "first": lambda items: _list(items, "first")[0] if items else None,
    "last": lambda items: _list(items, "last")[-1] if items else None,
    "keys": lambda m: list(m) if isinstance(m, Mapping) else _list(m, "keys"),
    "values": lambda m: list(m.values()) if isinstance(m, Mapping) else _list(m, "values"),
    **{name: _predicate(name) for name in ("all", "none", "any", "one", "filter", "map", "count")},
    "find": _predicate("find"),
    "findIndex": _predicate("findIndex"),
}
