"""Tokens of Woodpecker's `evaluate` expressions (expr-lang/expr's lexer rules, see `expr/__init__.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pipelines.woodpecker.expr.errors import ExpressionError


class Kind(StrEnum):
    """What a token is."""

    IDENTIFIER = "identifier"
    NUMBER = "number"
    STRING = "string"
    OPERATOR = "operator"
    BRACKET = "bracket"
    EOF = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    """One token and where it starts (0-based offset into the expression)."""

    kind: Kind
    value: str
    offset: int

    def is_(self, kind: Kind, *values: str) -> bool:
        """Whether the token is of `kind` (and one of `values`, when given)."""
        return self.kind == kind and (not values or self.value in values)


WORD_OPERATORS = frozenset({"in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let"})
NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+"
    r"|(?:[0-9][0-9_]*(?:\.(?!\.)[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?"
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\"}
_TWO_CHARS = ("==", "!=", "<=", ">=", "&&", "||", "**", "??", "?.", "..", "::")


def _is_word(char: str) -> bool:
    return char in {"_", "$"} or char.isalnum()


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an EOF token; raises ExpressionError where it cannot read on."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ExpressionError("unclosed comment", i)
            i = end + 2
        elif char in "'\"":
            start = i
            value, i = _quoted(text, i)
            tokens.append(Token(Kind.STRING, value, start))
        elif char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise ExpressionError("literal not terminated", i)
            tokens.append(Token(Kind.STRING, text[i + 1 : end], i))
            i = end + 1
        elif char.isdigit() or (char == "." and i + 1 < len(text) and text[i + 1].isdigit()):
            match = _NUMBER.match(text, i)
            assert match is not None
            end = match.end()
            if end < len(text) and _is_word(text[end]):
                raise ExpressionError(f"bad number syntax: {text[i : end + 1]!r}", i)
            tokens.append(Token(Kind.NUMBER, match.group(), i))
            i = end
        elif _is_word(char):
            start = i
            while i < len(text) and _is_word(text[i]):
                i += 1
            word = text[start:i]
            kind = Kind.OPERATOR if word in WORD_OPERATORS or word == "not" else Kind.IDENTIFIER
            tokens.append(Token(kind, word, start))
        elif char in "([{)]}":
            tokens.append(Token(Kind.BRACKET, char, i))
            i += 1
        elif text.startswith(_TWO_CHARS, i):
            tokens.append(Token(Kind.OPERATOR, text[i : i + 2], i))
            i += 2
        elif char in ",;%+-^*/<>!=?:|#.":
            tokens.append(Token(Kind.OPERATOR, char, i))
            i += 1
        else:
            raise ExpressionError(f"unrecognized character: {char!r}", i)
    tokens.append(Token(Kind.EOF, "", len(text)))
    return tokens


def _quoted(text: str, start: int) -> tuple[str, int]:
    """A '...' or "..." literal starting at `start`, unescaped (Go's escapes); (value, index after it)."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\n":
            break
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 >= len(text):
            break
        code = text[i + 1]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            i += 2
        elif code in "'\"":
            out.append(code)
            i += 2
        elif code in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[code]
            digits = text[i + 2 : i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ExpressionError("invalid char escape", i)
            out.append(chr(int(digits, 16)))
            i += 2 + width
        elif code in "01234567":
            digits = text[i + 1 : i + 4]
            if len(digits) != 3 or not all(c in "01234567" for c in digits):
                raise ExpressionError("invalid char escape", i)
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise ExpressionError("invalid char escape", i)
    raise ExpressionError("literal not terminated", start)
