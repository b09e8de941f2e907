"""The SQL that `analytics.getRuntimeLogs` answers locally: a small ClickHouse subset, parsed and
translated to SQLite.

Accepted: `SELECT * | col, ... FROM runtime_logs_v1 [WHERE cond] [ORDER BY col [ASC|DESC], ...]
[LIMIT n [OFFSET m]]`, where conditions combine comparisons (`= == != <> < <= > >=`), `[NOT] IN (...)`,
`[NOT] LIKE/ILIKE`, `IS [NOT] NULL` and `BETWEEN` with AND, OR, NOT and parentheses, over columns,
literals and `lower()`, `upper()`, `length()`. String literals follow ClickHouse (backslash escapes,
`''`) and become bound parameters; LIKE keeps ClickHouse's case-sensitive, backslash-escaped matching.
Anything else is refused with the reason, as Unkey answers an invalid analytics query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TABLE = "runtime_logs_v1"
COLUMNS = ("time", "severity", "message", "attributes", "region", "project_id", "app_id", "environment_id",
           "deployment_id", "instance_id")
FUNCTIONS = {"lower": "lower", "upper": "upper", "length": "length"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "a": "\a", "v": "\v",
            "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?", "%": "\\%", "_": "\\_"}
_TOKEN = re.compile(
    r"""\s+|--[^\n]*|/\*.*?\*/
    |(?P<string>'(?:[^'\\]|\\.|'')*')
    |(?P<number>\d+(?:\.\d+)?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op><=|>=|!=|<>|==|[=<>(),*;.-])""",
    re.X | re.S,
)
KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "BETWEEN",
            "ORDER", "BY", "ASC", "DESC", "LIMIT", "OFFSET", "AS"}
WRITES = {"INSERT", "UPDATE", "DELETE", "DROP", "ALTER", "CREATE", "TRUNCATE", "GRANT", "REVOKE", "ATTACH",
          "DETACH", "PRAGMA", "REPLACE", "VACUUM", "RENAME", "OPTIMIZE", "SYSTEM", "KILL", "SET", "USE"}


class QueryError(Exception):
    """The query is not one this API answers; `kind` is query, table, function or query_type."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Token:
    kind: str  # string, number, word, op, end
    text: str
    value: Any = None
    position: int = 0


@dataclass
class Translated:
    sql: str
    params: list[Any] = field(default_factory=list)
    columns: tuple[str, ...] = ()


def tokenize(text: str) -> list[Token]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise QueryError("query", f"Syntax error: unexpected {text[position]!r} at position {position}")
        kind = match.lastgroup
        if kind == "string":
            tokens.append(Token("string", match.group(), _unquote(match.group()[1:-1]), position))
        elif kind == "number":
            tokens.append(Token("number", match.group(), _number(match.group()), position))
        elif kind:
            tokens.append(Token(kind, match.group(), None, position))
        position = match.end()
    tokens.append(Token("end", "", None, len(text)))
    return tokens


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _unquote(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        text = match.group()
        if text == "''":
            return "'"
        char = text[1]
        if char == "x" and re.fullmatch(r"\\x[0-9A-Fa-f]{2}", text):
            return chr(int(text[2:], 16))
        return _ESCAPES.get(char, char)

    return re.sub(r"''|\\x[0-9A-Fa-f]{2}|\\.", replace, body, flags=re.S)


def translate(text: str) -> Translated:
    """SQLite SQL with bound parameters for a query of the accepted subset; QueryError otherwise."""
    return _Parser(tokenize(text)).query()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.params: list[Any] = []

    # helpers

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def keyword(self, *words: str) -> bool:
        token = self.current
        return token.kind == "word" and token.text.upper() in words

    def take_keyword(self, *words: str) -> str | None:
        if self.keyword(*words):
            self.index += 1
            return self.tokens[self.index - 1].text.upper()
        return None

    def expect_keyword(self, word: str) -> None:
        if not self.take_keyword(word):
            self.fail(f"expected {word}")

    def op(self, *ops: str) -> bool:
        return self.current.kind == "op" and self.current.text in ops

    def take_op(self, *ops: str) -> str | None:
        if self.op(*ops):
            self.index += 1
            return self.tokens[self.index - 1].text
        return None

    def expect_op(self, op: str) -> None:
        if not self.take_op(op):
            self.fail(f"expected {op!r}")

    def fail(self, what: str) -> None:
        token = self.current
        got = "the end of the query" if token.kind == "end" else repr(token.text)
        raise QueryError("query", f"Syntax error: {what}, got {got} at position {token.position}")

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    # grammar

    def query(self) -> Translated:
        first = self.current
        if first.kind == "word" and first.text.upper() in WRITES:
            raise QueryError("query_type", f"Only SELECT queries are allowed; {first.text.upper()} is not.")
        if not self.take_keyword("SELECT"):
            if first.kind == "word" and first.text.upper() == "WITH":
                raise QueryError("query_type", "WITH is not supported by the local control plane; use a plain "
                                               "SELECT ... FROM runtime_logs_v1.")
            self.fail("expected SELECT")
        columns = self.select_list()
        self.expect_keyword("FROM")
        self.table()
        sql = f"SELECT {', '.join(_quoted(c) for c in columns)} FROM {TABLE}"
        if self.take_keyword("WHERE"):
            sql += " WHERE " + self.expression()
        if self.take_keyword("ORDER"):
            self.expect_keyword("BY")
            items = [self.order_item()]
            while self.take_op(","):
                items.append(self.order_item())
            sql += " ORDER BY " + ", ".join(items)
        if self.take_keyword("LIMIT"):
            sql += f" LIMIT {self.integer('LIMIT')}"
            if self.take_keyword("OFFSET"):
                sql += f" OFFSET {self.integer('OFFSET')}"
        self.take_op(";")
        if self.current.kind != "end":
            if self.keyword(*WRITES):
                raise QueryError("query_type", "Only one SELECT query is allowed.")
            self.fail("expected the end of the query")
        return Translated(sql, self.params, tuple(columns))

    def select_list(self) -> list[str]:
        if self.take_op("*"):
            return list(COLUMNS)
        columns = [self.column()]
        while self.take_op(","):
            columns.append(self.column())
        return columns

    def table(self) -> None:
        token = self.current
        if token.kind != "word":
            self.fail("expected a table name")
        name = token.text
        self.index += 1
        if self.take_op("."):
            name += "." + self.current.text
            self.index += 1
        if name != TABLE:
            raise QueryError("table", f"Access to table '{name}' is not allowed; query {TABLE}.")

    def column(self) -> str:
        token = self.current
        if token.kind != "word" or token.text.upper() in KEYWORDS:
            self.fail("expected a column")
        if token.text not in COLUMNS:
            raise QueryError("query", f"Unknown column '{token.text}'; {TABLE} has {', '.join(COLUMNS)}.")
        self.index += 1
        return token.text

    def order_item(self) -> str:
        column = self.column()
        direction = self.take_keyword("ASC", "DESC") or "ASC"
        return f"{_quoted(column)} {direction}"

    def integer(self, clause: str) -> int:
        token = self.current
        if token.kind != "number" or not isinstance(token.value, int):
            self.fail(f"expected a whole number after {clause}")
        self.index += 1
        return int(token.value)

    def expression(self) -> str:
        parts = [self.conjunction()]
        while self.take_keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def conjunction(self) -> str:
        parts = [self.negation()]
        while self.take_keyword("AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def negation(self) -> str:
        if self.take_keyword("NOT"):
            return f"(NOT {self.negation()})"
        return self.predicate()

    def predicate(self) -> str:
        if self.take_op("("):
            inner = self.expression()
            self.expect_op(")")
            return inner
        left = self.operand()
        if op := self.take_op("=", "==", "!=", "<>", "<", "<=", ">", ">="):
            sql_op = {"==": "=", "<>": "!="}.get(op, op)
            return f"({left} {sql_op} {self.operand()})"
        negated = bool(self.take_keyword("NOT"))
        if self.take_keyword("IN"):
            self.expect_op("(")
            values = [self.literal()]
            while self.take_op(","):
                values.append(self.literal())
            self.expect_op(")")
            return f"({left} {'NOT IN' if negated else 'IN'} ({', '.join(values)}))"
        if like := self.take_keyword("LIKE", "ILIKE"):
            token = self.current
            if token.kind != "string":
                self.fail(f"expected a string pattern after {like}")
            self.index += 1
            call = f"ch_{like.lower()}({left}, {self.param(token.value)})"
            return f"(NOT {call})" if negated else call
        if self.take_keyword("BETWEEN"):
            low = self.operand()
            self.expect_keyword("AND")
            high = self.operand()
            return f"({left} {'NOT BETWEEN' if negated else 'BETWEEN'} {low} AND {high})"
        if not negated and self.take_keyword("IS"):
            is_not = bool(self.take_keyword("NOT"))
            self.expect_keyword("NULL")
            return f"({left} IS {'NOT ' if is_not else ''}NULL)"
        self.fail("expected a comparison")
        raise AssertionError  # unreachable: fail() raises

    def operand(self) -> str:
        token = self.current
        if token.kind == "word" and token.text.upper() not in KEYWORDS and self.tokens[self.index + 1].text == "(":
            name = token.text
            if name.lower() not in FUNCTIONS:
                raise QueryError("function", f"Function '{name}' is not allowed; use {', '.join(FUNCTIONS)}.")
            self.index += 2
            argument = self.operand()
            self.expect_op(")")
            return f"{FUNCTIONS[name.lower()]}({argument})"
        if token.kind == "word" and token.text.upper() not in KEYWORDS:
            return _quoted(self.column())
        return self.literal()

    def literal(self) -> str:
        token = self.current
        if token.kind in ("string", "number"):
            self.index += 1
            return self.param(token.value)
        if self.op("-") and self.tokens[self.index + 1].kind == "number":
            self.index += 2
            return self.param(-self.tokens[self.index - 1].value)
        if self.take_keyword("NULL"):
            return "NULL"
        self.fail("expected a value")
        raise AssertionError  # unreachable: fail() raises


def _quoted(column: str) -> str:
    return f'"{column}"'


def like(value: Any, pattern: Any, *, insensitive: bool = False) -> int | None:
    """ClickHouse LIKE: `%` any run, `_` one character, a backslash escapes; case-sensitive unless ILIKE.

    Matched piece by piece between the `%`s (leftmost first, which is exact for this kind of pattern), so
    no pattern can make the match take more than linear passes over the value.
    """
    if value is None or pattern is None:
        return None
    text = str(value)
    pieces = _like_pieces(str(pattern), insensitive)
    if len(pieces) == 1:
        return 1 if pieces[0].fullmatch(text) else 0
    first, *middle, last = pieces
    head = first.match(text)
    if head is None:
        return 0
    position = head.end()
    for piece in middle:
        found = piece.search(text, position)
        if found is None:
            return 0
        position = found.end()
    return 1 if last.search(text, position) else 0


_LIKE_CACHE: dict[tuple[str, bool], list[re.Pattern[str]]] = {}


def _like_pieces(pattern: str, insensitive: bool) -> list[re.Pattern[str]]:
    """The pattern split at its unescaped `%`s, each piece a regex without repetition; the last anchored
    at the end."""
    cached = _LIKE_CACHE.get((pattern, insensitive))
    if cached is not None:
        return cached
    pieces: list[list[str]] = [[]]
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            pieces[-1].append(re.escape(pattern[index + 1]))
            index += 2
            continue
        if char == "%":
            pieces.append([])
        else:
            pieces[-1].append("." if char == "_" else re.escape(char))
        index += 1
    flags = re.S | (re.I if insensitive else 0)
    compiled = [re.compile("".join(piece), flags) for piece in pieces]
    if len(compiled) > 1:
        compiled[-1] = re.compile("(?:" + "".join(pieces[-1]) + r")\Z", flags)
    if len(_LIKE_CACHE) < 256:
        _LIKE_CACHE[(pattern, insensitive)] = compiled
    return compiled
