"""The type check expr-lang/expr does before an expression runs: with Woodpecker's environment every known
variable is a string and every unknown one of unknown type, so `CI_PIPELINE_NUMBER > 5` is refused when the
variable is set (a string against an int) and left to fail, or not, when it runs otherwise."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from pipelines.woodpecker.expr import syntax as ast
from pipelines.woodpecker.expr.errors import ExpressionError

UNKNOWN = "interface {}"
STRING, INT, FLOAT, BOOL, NIL = "string", "int", "float64", "bool", "nil"
ARRAY, MAP = "[]interface {}", "map[string]interface {}"
NUMBERS = frozenset({INT, FLOAT})
_RESULTS: dict[str, str] = {
    "len": INT, "lower": STRING, "upper": STRING, "trim": STRING, "trimPrefix": STRING,
    "trimSuffix": STRING, "replace": STRING, "repeat": STRING, "split": ARRAY, "splitAfter": ARRAY,
    "indexOf": INT, "lastIndexOf": INT, "hasPrefix": BOOL, "hasSuffix": BOOL, "join": STRING,
    "int": INT, "float": FLOAT, "string": STRING, "abs": UNKNOWN, "min": UNKNOWN, "max": UNKNOWN,
    "fromJSON": UNKNOWN, "toJSON": STRING, "first": UNKNOWN, "last": UNKNOWN, "keys": ARRAY,
    "values": ARRAY, "all": BOOL, "none": BOOL, "any": BOOL, "one": BOOL, "filter": ARRAY, "map": ARRAY,
    "count": INT, "find": UNKNOWN, "findIndex": INT,
}  # fmt: skip
FUNCTIONS = frozenset(_RESULTS)


def check(node: ast.Node, defined: Collection[str]) -> str:
    """The expression's type; raises ExpressionError where expr's checker refuses it. `defined` are the
    variables the environment has (strings); the result must be a bool (expr.AsBool)."""
    kind = _type(node, defined)
    if kind not in (BOOL, UNKNOWN):
        raise ExpressionError(f"expected bool, but got {kind}", node.offset)
    return kind


def _type(node: ast.Node, defined: Collection[str]) -> str:
    if isinstance(node, ast.Literal):
        return _literal_type(node.value)
    if isinstance(node, ast.Name):
        if node.name == "$env":
            return UNKNOWN
        return STRING if node.name in defined else UNKNOWN
    if isinstance(node, ast.Unary):
        operand = _type(node.operand, defined)
        wanted = {BOOL} if node.operator in ("not", "!") else NUMBERS
        if operand != UNKNOWN and operand not in wanted:
            raise ExpressionError(
                f"invalid operation: {node.operator} (mismatched type {operand})", node.offset
            )
        return operand
    if isinstance(node, ast.Binary):
        return _binary(node, _type(node.left, defined), _type(node.right, defined))
    if isinstance(node, ast.Conditional):
        condition = _type(node.condition, defined)
        if condition not in (BOOL, UNKNOWN):
            raise ExpressionError(f"non-bool expression (type {condition}) used as condition", node.offset)
        then, otherwise = _type(node.then, defined), _type(node.otherwise, defined)
        return then if then == otherwise else UNKNOWN
    if isinstance(node, ast.Member):
        _type(node.target, defined)
        _type(node.key, defined)
        return UNKNOWN
    if isinstance(node, ast.Slice):
        target = _type(node.target, defined)
        for part in (node.start, node.stop):
            if part is not None:
                _type(part, defined)
        return target if target in (STRING, ARRAY) else UNKNOWN
    if isinstance(node, ast.Call):
        if node.function not in FUNCTIONS:
            raise ExpressionError(f"unknown func {node.function}", node.offset)
        for argument in node.arguments:
            _type(argument, defined)
        return _RESULTS[node.function]
    if isinstance(node, ast.Predicate):
        _type(node.body, defined)
        return UNKNOWN
    if isinstance(node, ast.ArrayLiteral):
        for item in node.items:
            _type(item, defined)
        return ARRAY
    if isinstance(node, ast.MapLiteral):
        for key, value in node.pairs:
            _type(key, defined)
            _type(value, defined)
        return MAP
    raise ExpressionError("unsupported expression", node.offset)  # pragma: no cover


def _literal_type(value: object) -> str:
    if value is None:
        return NIL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    return STRING


def _binary(node: ast.Binary, left: str, right: str) -> str:
    operator = node.operator
    unknown = UNKNOWN in (left, right)

    def mismatch() -> ExpressionError:
        return ExpressionError(
            f"invalid operation: {operator} (mismatched types {left} and {right})", node.offset
        )

    if operator in ("==", "!="):
        comparable = left == right or {left, right} <= NUMBERS or NIL in (left, right)
        if not (unknown or comparable):
            raise mismatch()
        return BOOL
    if operator in ("and", "&&", "or", "||"):
        if not {left, right} <= {BOOL, UNKNOWN}:
            raise mismatch()
        return BOOL
    if operator in ("<", ">", "<=", ">="):
        if not (unknown or {left, right} <= NUMBERS or left == right == STRING):
            raise mismatch()
        return BOOL
    if operator in ("contains", "startsWith", "endsWith", "matches"):
        if not {left, right} <= {STRING, UNKNOWN}:
            raise mismatch()
        if (
            operator == "matches"
            and isinstance(node.right, ast.Literal)
            and isinstance(node.right.value, str)
        ):
            try:
                re.compile(node.right.value)
            except re.error as exc:
                raise ExpressionError(f"error parsing regexp: {exc}", node.right.offset) from None
        return BOOL
    if operator == "in":
        if right not in (ARRAY, MAP, UNKNOWN) or (right == MAP and left not in (STRING, UNKNOWN)):
            raise mismatch()
        return BOOL
    if operator == "??":
        return left if left == right else UNKNOWN
    if operator == "..":
        if not {left, right} <= {INT, UNKNOWN}:
            raise mismatch()
        return ARRAY
    return _arithmetic(operator, left, right, unknown, mismatch)


def _arithmetic(
    operator: str, left: str, right: str, unknown: bool, mismatch: Callable[[], ExpressionError]
) -> str:
    if operator == "+" and left == right and left in (STRING, ARRAY):
        return left
    if operator == "%":
        if not {left, right} <= {INT, UNKNOWN}:
            raise mismatch()
        return INT
    if not {left, right} <= {*NUMBERS, UNKNOWN}:
        raise mismatch()
    if unknown:
        return UNKNOWN
    if operator in ("/", "**", "^") or FLOAT in (left, right):
        return FLOAT
    return INT
