"""The syntax tree of an `evaluate` expression and its parser (precedence climbing, as expr-lang/expr)."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.woodpecker.expr.errors import ExpressionError
from pipelines.woodpecker.expr.lexer import NEGATABLE, Kind, Token, tokenize

UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
BINARY = {
    "|": 0, "or": 10, "||": 10, "and": 15, "&&": 15,
    "==": 20, "!=": 20, "<": 20, ">": 20, ">=": 20, "<=": 20,
    "in": 20, "matches": 20, "contains": 20, "startsWith": 20, "endsWith": 20,
    "..": 25, "+": 30, "-": 30, "*": 60, "/": 60, "%": 60, "**": 100, "^": 100, "??": 500,
}  # fmt: skip
RIGHT_ASSOCIATIVE = frozenset({"**", "^"})
COMPARISONS = frozenset({"<", ">", "<=", ">="})
PREDICATES = frozenset({"all", "none", "any", "one", "filter", "map", "count", "find", "findIndex"})
MAX_NODES = 10_000


@dataclass(frozen=True, slots=True)
class Node:
    """Any node; `offset` is where it was written."""

    offset: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """true, false, nil, a number or a string."""

    value: object


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A variable (`CI_COMMIT_BRANCH`), `$env`, or `#` inside a predicate."""

    name: str


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """`not x`, `!x`, `-x`, `+x`."""

    operator: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """`left operator right`."""

    operator: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """`condition ? then : otherwise`."""

    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Member(Node):
    """`x.name`, `x["name"]`, `x[0]` (`optional`: `x?.name`, nil when x is nil)."""

    target: Node
    key: Node
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Slice(Node):
    """`x[from:to]`."""

    target: Node
    start: Node | None
    stop: Node | None


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A builtin function: `lower(x)`, `x | lower()`, `any(list, {# == 1})`."""

    function: str
    arguments: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Predicate(Node):
    """The `{ ... }` (or bare) expression a predicate builtin runs per element, `#` being the element."""

    body: Node


@dataclass(frozen=True, slots=True)
class ArrayLiteral(Node):
    """`[a, b, c]`."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLiteral(Node):
    """`{a: 1, "b": 2}`."""

    pairs: tuple[tuple[Node, Node], ...]


def parse(text: str) -> Node:
    """The syntax tree of `text`; raises ExpressionError at the first problem."""
    parser = _Parser(tokenize(text))
    node = parser.expression(0)
    if not parser.current.is_(Kind.EOF):
        raise ExpressionError(f"unexpected token {_describe(parser.current)}", parser.current.offset)
    return node


def _describe(token: Token) -> str:
    if token.kind == Kind.EOF:
        return "end of expression"
    return f'{token.kind.value.capitalize()}("{token.value}")'


@dataclass
class _Parser:
    tokens: list[Token]
    position: int = 0
    depth: int = 0
    nodes: int = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def next(self) -> Token:
        token = self.current
        if token.kind != Kind.EOF:
            self.position += 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError("the expression is too long", token.offset)
        return token

    def expect(self, kind: Kind, value: str) -> Token:
        if not self.current.is_(kind, value):
            raise ExpressionError(f"unexpected token {_describe(self.current)}", self.current.offset)
        return self.next()

    def expression(self, precedence: int) -> Node:
        left = self.primary()
        previous = ""
        while self.current.kind == Kind.OPERATOR:
            token = self.current
            negate = token.value == "not"
            operator = token.value
            if negate:
                following = self.tokens[self.position + 1]
                if following.kind != Kind.OPERATOR or following.value not in NEGATABLE:
                    raise ExpressionError(f"unexpected token {_describe(following)}", following.offset)
                if BINARY[following.value] < precedence:
                    break
                self.next()
                operator = following.value
            if operator not in BINARY or BINARY[operator] < precedence:
                break
            self.next()
            if operator == "|":
                name = self.current
                if name.kind != Kind.IDENTIFIER:
                    raise ExpressionError(f"unexpected token {_describe(name)}", name.offset)
                self.next()
                left = self.call(name, [left])
            elif previous == "??" and operator != "??":
                raise ExpressionError(
                    f"Operator ({operator}) and coalesce expressions (??) cannot be mixed."
                    " Wrap either by parentheses.",
                    token.offset,
                )
            elif operator in COMPARISONS:
                left = self.comparison(left, operator, token.offset)
            else:
                strength = BINARY[operator] + (0 if operator in RIGHT_ASSOCIATIVE else 1)
                right = self.expression(strength)
                left = Binary(token.offset, operator, left, right)
                if negate:
                    left = Unary(token.offset, "not", left)
            previous = operator
        if precedence == 0:
            while self.current.is_(Kind.OPERATOR, "?"):
                offset = self.next().offset
                if self.current.is_(Kind.OPERATOR, ":"):
                    self.next()
                    left = Conditional(offset, left, left, self.expression(0))
                else:
                    then = self.expression(0)
                    self.expect(Kind.OPERATOR, ":")
                    left = Conditional(offset, left, then, self.expression(0))
        return left

    def comparison(self, left: Node, operator: str, offset: int) -> Node:
        """`a < b < c` is `a < b && b < c`, as in expr."""
        root: Node | None = None
        while True:
            right = self.expression(BINARY[operator] + 1)
            node = Binary(offset, operator, left, right)
            root = node if root is None else Binary(offset, "&&", root, node)
            left = right
            if not (self.current.kind == Kind.OPERATOR and self.current.value in COMPARISONS):
                return root
            token = self.next()
            operator, offset = token.value, token.offset

    def primary(self) -> Node:
        token = self.current
        if token.kind == Kind.OPERATOR and token.value in UNARY:
            self.next()
            operand = self.expression(UNARY[token.value])
            return self.postfix(Unary(token.offset, token.value, operand))
        if token.is_(Kind.BRACKET, "("):
            self.next()
            inner = self.expression(0)
            self.expect(Kind.BRACKET, ")")
            return self.postfix(inner)
        if self.depth > 0 and token.is_(Kind.OPERATOR, "#"):
            self.next()
            return self.postfix(Name(token.offset, "#"))
        return self.postfix(self.secondary())

    def secondary(self) -> Node:
        token = self.next()
        if token.kind == Kind.IDENTIFIER:
            constants: dict[str, object] = {"true": True, "false": False, "nil": None}
            if token.value in constants:
                return Literal(token.offset, constants[token.value])
            if self.current.is_(Kind.BRACKET, "("):
                return self.call(token, [])
            return Name(token.offset, token.value)
        if token.kind == Kind.NUMBER:
            return Literal(token.offset, _number(token))
        if token.kind == Kind.STRING:
            return Literal(token.offset, token.value)
        if token.is_(Kind.BRACKET, "["):
            items: list[Node] = []
            while not self.current.is_(Kind.BRACKET, "]"):
                if items:
                    self.expect(Kind.OPERATOR, ",")
                    if self.current.is_(Kind.BRACKET, "]"):
                        break
                items.append(self.expression(0))
            self.expect(Kind.BRACKET, "]")
            return ArrayLiteral(token.offset, tuple(items))
        if token.is_(Kind.BRACKET, "{"):
            return self.map_literal(token)
        raise ExpressionError(f"unexpected token {_describe(token)}", token.offset)

    def map_literal(self, start: Token) -> Node:
        pairs: list[tuple[Node, Node]] = []
        while not self.current.is_(Kind.BRACKET, "}"):
            if pairs:
                self.expect(Kind.OPERATOR, ",")
                if self.current.is_(Kind.BRACKET, "}"):
                    break
            key_token = self.current
            if key_token.kind in (Kind.NUMBER, Kind.STRING, Kind.IDENTIFIER):
                self.next()
                key: Node = Literal(key_token.offset, key_token.value)
            elif key_token.is_(Kind.BRACKET, "("):
                key = self.expression(0)
            else:
                raise ExpressionError(
                    "a map key must be a quoted string, a number, a identifier, or an expression enclosed"
                    f" in parentheses (unexpected token {_describe(key_token)})",
                    key_token.offset,
                )
            self.expect(Kind.OPERATOR, ":")
            pairs.append((key, self.expression(0)))
        self.expect(Kind.BRACKET, "}")
        return MapLiteral(start.offset, tuple(pairs))

    def call(self, name: Token, arguments: list[Node]) -> Node:
        self.expect(Kind.BRACKET, "(")
        written = 0
        while not self.current.is_(Kind.BRACKET, ")"):
            if written:
                self.expect(Kind.OPERATOR, ",")
                if self.current.is_(Kind.BRACKET, ")"):
                    break
            if name.value in PREDICATES and len(arguments) == 1:
                arguments.append(self.predicate())
            else:
                arguments.append(self.expression(0))
            written += 1
        self.expect(Kind.BRACKET, ")")
        return Call(name.offset, name.value, tuple(arguments))

    def predicate(self) -> Node:
        start = self.current
        braces = start.is_(Kind.BRACKET, "{")
        if braces:
            self.next()
        self.depth += 1
        body = self.expression(0)
        self.depth -= 1
        if braces:
            self.expect(Kind.BRACKET, "}")
        return Predicate(start.offset, body)

    def postfix(self, node: Node) -> Node:
        while self.current.kind in (Kind.OPERATOR, Kind.BRACKET):
            token = self.current
            optional = token.value == "?."
            if token.value in (".", "?."):
                self.next()
                if optional and self.current.is_(Kind.BRACKET, "["):
                    continue
                name = self.next()
                if name.kind not in (Kind.IDENTIFIER, Kind.OPERATOR) or not name.value[:1].isalpha():
                    raise ExpressionError("expected name", name.offset)
                node = Member(name.offset, node, Literal(name.offset, name.value), optional)
            elif token.is_(Kind.BRACKET, "["):
                optional = self.tokens[self.position - 1].value == "?."
                self.next()
                node = self._index(token, node, optional)
            else:
                break
        return node

    def _index(self, token: Token, node: Node, optional: bool) -> Node:
        start: Node | None = None
        if not self.current.is_(Kind.OPERATOR, ":"):
            start = self.expression(0)
            if not self.current.is_(Kind.OPERATOR, ":"):
                self.expect(Kind.BRACKET, "]")
                return Member(token.offset, node, start, optional)
        self.next()
        stop = None if self.current.is_(Kind.BRACKET, "]") else self.expression(0)
        self.expect(Kind.BRACKET, "]")
        return Slice(token.offset, node, start, stop)


def _number(token: Token) -> int | float:
    text = token.value.replace("_", "")
    lower = text.lower()
    try:
        if lower.startswith(("0x", "0o", "0b")):
            return int(text, 0)
        if "." in lower or "e" in lower:
            return float(text)
        return int(text, 10)
    except ValueError:
        raise ExpressionError(f"invalid number literal: {token.value}", token.offset) from None
