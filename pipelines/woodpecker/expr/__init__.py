"""Woodpecker's `when: evaluate:` expressions: the expr-lang/expr language over the `CI_*` variables.

Woodpecker compiles each expression with `expr.Env(environment)`, `expr.AllowUndefinedVariables()` and
`expr.AsBool()`, where the environment is a map of strings (the `CI_*` variables that are not empty, the
matrix axis, the server's global variables). This package does the same in Python:

- a variable the environment has is a string; one it lacks reads as "" when the expression runs (the zero
  value of a map of strings) and has no type while it is checked;
- before it runs, an expression is type-checked as expr's checker does (`CI_PIPELINE_NUMBER > 1` with the
  variable set compares a string with an int and is refused; `int(CI_PIPELINE_NUMBER) > 1` is fine), and its
  type must be bool;
- running it follows expr's VM: `contains`/`startsWith`/`endsWith`/`matches` with nil give false, `and`/`or`/
  `not` on anything but a bool fail, `==` compares numbers by value and everything else by type and value,
  `/` gives a float, the result must be a bool.

The grammar (a subset of expr's, with its precedences; `a < b < c` means `a < b && b < c`)::

    expression  = binary(0) { "?" [expression] ":" expression }
    binary(p)   = unary { OP binary(prec(OP) + left) }     -- only operators with prec(OP) >= p
    OP          = "|" (0, pipe into a call) | "or" "||" (10) | "and" "&&" (15)
                | "==" "!=" "<" ">" "<=" ">=" "in" "matches" "contains" "startsWith" "endsWith" (20)
                | "not in" "not matches" "not contains" "not startsWith" "not endsWith" (20)
                | ".." (25) | "+" "-" (30) | "*" "/" "%" (60) | "**" "^" (100, right) | "??" (500)
    unary       = ("not" | "!") binary(50) | ("-" | "+") binary(90) | postfix
    postfix     = primary { "." NAME | "?." NAME | "[" expression "]" | "[" [expr] ":" [expr] "]" }
    primary     = "(" expression ")" | "true" | "false" | "nil" | NUMBER | STRING | NAME | "$env" | "#"
                | NAME "(" [arguments] ")" | "[" [expression {"," expression}] "]"
                | "{" [key ":" expression {"," key ":" expression}] "}"
    arguments   = expression {"," expression}        -- a predicate function's second one is a predicate
    predicate   = "{" expression "}" | expression    -- `#` is the element
    NUMBER      = 42 | 0x2A | 0o52 | 0b101010 | 1_000 | 0.5 | .5 | 1e3
    STRING      = '...' | "..." (Go escapes: \\n \\t \\\\ \\" \\x41 \\u00e9 \\101) | `raw`
    comments    = // to the end of the line, /* ... */

Functions: len, lower, upper, trim, trimPrefix, trimSuffix, replace, repeat, split, splitAfter, indexOf,
lastIndexOf, hasPrefix, hasSuffix, join, int, float, string, abs, min, max, fromJSON, toJSON, first, last,
keys, values; predicates all, none, any, one, filter, map, count, find, findIndex. Left out of expr's
language: `let`, `if {} else {}`, byte strings, `::`, `.field` inside predicates, dates and the other
builtins (an unknown function is an error, as in expr). Regular expressions are Python's, which read RE2's
syntax the same for everything but its rarest classes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pipelines.woodpecker.expr.builtins import to_text
from pipelines.woodpecker.expr.checker import check
from pipelines.woodpecker.expr.errors import ExpressionError
from pipelines.woodpecker.expr.evaluate import run
from pipelines.woodpecker.expr.syntax import Node, parse


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed `evaluate` expression."""

    text: str
    tree: Node

    def check(self, defined: Collection[str] = ()) -> None:
        """Type-check as if `defined` were the variables set; raises ExpressionError."""
        check(self.tree, defined)

    def evaluate(self, env: Mapping[str, str]) -> bool:
        """Check, then run over `env`; raises ExpressionError (located inside the text)."""
        check(self.tree, env.keys())
        value = run(self.tree, env)
        if not isinstance(value, bool):
            raise ExpressionError(f"could not parse result: {to_text(value)}", 0)
        return value


def compile_expression(text: str) -> Expression:
    """Parse `text`; raises ExpressionError at the first syntax error."""
    return Expression(text, parse(text))


__all__ = ["Expression", "ExpressionError", "compile_expression"]
