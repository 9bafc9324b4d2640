"""Running an `evaluate` expression over Woodpecker's environment, with expr-lang/expr's runtime rules."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.woodpecker.expr import syntax as ast
from pipelines.woodpecker.expr.builtins import BUILTINS, go_type
from pipelines.woodpecker.expr.errors import ExpressionError

MAX_STEPS = 100_000
"""Nodes evaluated before an expression is stopped (a range over millions of numbers)."""


@dataclass
class _Runtime:
    env: Mapping[str, str]
    steps: int = 0
    scope: list[Any] = field(default_factory=list)

    def value(self, node: ast.Node) -> Any:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ExpressionError("the expression takes too long", node.offset)
        handler = _HANDLERS.get(type(node))
        if handler is None:  # pragma: no cover - every node type has a handler
            raise ExpressionError("unsupported expression", node.offset)
        return handler(self, node)


def run(node: ast.Node, env: Mapping[str, str]) -> Any:
    """The expression's value; a variable the environment lacks reads as "" (a map of strings' zero value,
    as expr fetches it); raises ExpressionError where expr's VM fails."""
    return _Runtime(env).value(node)


def _literal(runtime: _Runtime, node: ast.Literal) -> Any:
    return node.value


def _name(runtime: _Runtime, node: ast.Name) -> Any:
    if node.name == "#":
        return runtime.scope[-1]
    if node.name == "$env":
        return runtime.env
    return runtime.env.get(node.name, "")


def _unary(runtime: _Runtime, node: ast.Unary) -> Any:
    value = runtime.value(node.operand)
    if node.operator in ("not", "!"):
        return not _boolean(value, node)
    if not _is_number(value):
        raise ExpressionError(f"invalid operation: {node.operator}{go_type(value)}", node.offset)
    return -value if node.operator == "-" else value


def _binary(runtime: _Runtime, node: ast.Binary) -> Any:
    operator = node.operator
    left = runtime.value(node.left)
    if operator in ("and", "&&"):
        return _boolean(left, node) and _boolean(runtime.value(node.right), node)
    if operator in ("or", "||"):
        return _boolean(left, node) or _boolean(runtime.value(node.right), node)
    if operator == "??":
        return runtime.value(node.right) if left is None else left
    right = runtime.value(node.right)
    if operator == "==":
        return equal(left, right)
    if operator == "!=":
        return not equal(left, right)
    if operator in ("contains", "startsWith", "endsWith", "matches"):
        return _string_operator(operator, left, right, node)
    if operator == "in":
        return _contains(right, left, node)
    if operator in ("<", ">", "<=", ">="):
        return _compare(operator, left, right, node)
    if operator == "..":
        if not (_is_int(left) and _is_int(right)):
            raise ExpressionError(f"invalid operation: {go_type(left)}..{go_type(right)}", node.offset)
        if right - left > MAX_STEPS:
            raise ExpressionError("the range is too long", node.offset)
        return list(range(left, right + 1))
    return _arithmetic(operator, left, right, node)


def _boolean(value: Any, node: ast.Node) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(
            f"interface conversion: interface {{}} is {go_type(value)}, not bool", node.offset
        )
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def equal(left: Any, right: Any) -> bool:
    """expr's runtime.Equal: numbers by value whatever their type, everything else by type and value."""
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _string_operator(operator: str, left: Any, right: Any, node: ast.Binary) -> bool:
    if left is None or right is None:
        return False
    if not (isinstance(left, str) and isinstance(right, str)):
        wrong = right if isinstance(left, str) else left
        raise ExpressionError(
            f"interface conversion: interface {{}} is {go_type(wrong)}, not string", node.offset
        )
    if operator == "contains":
        return right in left
    if operator == "startsWith":
        return left.startswith(right)
    if operator == "endsWith":
        return left.endswith(right)
    try:
        return re.search(right, left) is not None
    except re.error as exc:
        raise ExpressionError(f"error parsing regexp: {exc}", node.right.offset) from None


def _contains(container: Any, needle: Any, node: ast.Node) -> bool:
    if container is None:
        return False
    if isinstance(container, list):
        return any(equal(item, needle) for item in container)
    if isinstance(container, Mapping):
        return needle in container
    raise ExpressionError(f'operator "in" not defined on {go_type(container)}', node.offset)


def _compare(operator: str, left: Any, right: Any, node: ast.Node) -> bool:
    both_numbers = _is_number(left) and _is_number(right)
    if not (both_numbers or (isinstance(left, str) and isinstance(right, str))):
        raise ExpressionError(f"invalid operation: {go_type(left)} {operator} {go_type(right)}", node.offset)
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }
    return checks[operator](left, right)


def _arithmetic(operator: str, left: Any, right: Any, node: ast.Node) -> Any:
    if operator == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if operator == "+" and isinstance(left, list) and isinstance(right, list):
        return left + right
    if not (_is_number(left) and _is_number(right)):
        raise ExpressionError(f"invalid operation: {go_type(left)} {operator} {go_type(right)}", node.offset)
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if operator == "/":
        return left / right if right else math.copysign(math.inf, left) if left else math.nan
    if operator == "%":
        if not (_is_int(left) and _is_int(right)):
            raise ExpressionError(f"invalid operation: {go_type(left)} % {go_type(right)}", node.offset)
        if right == 0:
            raise ExpressionError("integer divide by zero", node.offset)
        return int(math.fmod(left, right))
    return float(left) ** float(right)


def _conditional(runtime: _Runtime, node: ast.Conditional) -> Any:
    condition = _boolean(runtime.value(node.condition), node)
    return runtime.value(node.then if condition else node.otherwise)


def _member(runtime: _Runtime, node: ast.Member) -> Any:
    target = runtime.value(node.target)
    if target is None and node.optional:
        return None
    key = runtime.value(node.key)
    if isinstance(target, Mapping):
        default = "" if target is runtime.env else None
        return target.get(key, default) if isinstance(key, str) else default
    if isinstance(target, list | str) and _is_int(key):
        index = key + len(target) if key < 0 else key
        if not 0 <= index < len(target):
            raise ExpressionError(f"index out of range: {index} (array length is {len(target)})", node.offset)
        return target[index]
    raise ExpressionError(f"cannot fetch {key} from {go_type(target)}", node.offset)


def _slice(runtime: _Runtime, node: ast.Slice) -> Any:
    target = runtime.value(node.target)
    if not isinstance(target, list | str):
        raise ExpressionError(f"cannot slice {go_type(target)}", node.offset)
    start = runtime.value(node.start) if node.start is not None else 0
    stop = runtime.value(node.stop) if node.stop is not None else len(target)
    if not (_is_int(start) and _is_int(stop)):
        raise ExpressionError("slice bounds must be integers", node.offset)
    start, stop = (start + len(target) if start < 0 else start), (stop + len(target) if stop < 0 else stop)
    return target[max(0, start) : min(len(target), stop)]


def _call(runtime: _Runtime, node: ast.Call) -> Any:
    function = BUILTINS.get(node.function)
    if function is None:
        raise ExpressionError(f"unknown func {node.function}", node.offset)
    predicates = [a for a in node.arguments if isinstance(a, ast.Predicate)]
    values = [runtime.value(a) for a in node.arguments if not isinstance(a, ast.Predicate)]
    if predicates:

        def each(item: Any) -> Any:
            runtime.scope.append(item)
            try:
                return runtime.value(predicates[0].body)
            finally:
                runtime.scope.pop()

        values.append(each)
    try:
        return function(*values)
    except ExpressionError as exc:
        raise ExpressionError(exc.message, node.offset) from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise ExpressionError(f"{node.function}: {exc}", node.offset) from None


def _array(runtime: _Runtime, node: ast.ArrayLiteral) -> Any:
    return [runtime.value(item) for item in node.items]


def _map(runtime: _Runtime, node: ast.MapLiteral) -> Any:
    return {str(runtime.value(key)): runtime.value(value) for key, value in node.pairs}


_HANDLERS: dict[type, Callable[[_Runtime, Any], Any]] = {
    ast.Literal: _literal,
    ast.Name: _name,
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Conditional: _conditional,
    ast.Member: _member,
    ast.Slice: _slice,
    ast.Call: _call,
    ast.ArrayLiteral: _array,
    ast.MapLiteral: _map,
}
