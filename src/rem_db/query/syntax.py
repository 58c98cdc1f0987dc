"""The syntax check of SQL text, run before sqlglot parses it.

sqlglot accepts some malformed text (``GROUP BY`` with nothing after it, stray commas, clauses out of order,
‘typographic quotes’ read as names) and describes the rest in its own terms ("Required keyword: 'expression'
missing for <class 'sqlglot.expressions.core.And'>"). This module walks the tokens of a statement (or of a
WHERE condition) with the grammar of docs/query.md and raises a :class:`~rem_db.QueryError` that names the
token at fault, where it is, and what is expected there, in the user's terms.

It is a recognizer, not a parser: it builds nothing. On a construct outside the subset that the converter
(:mod:`.sql`) names better — joins, subqueries, CASE, CAST, window functions, DISTINCT, HAVING … — it
stops checking (:class:`_Defer`) and leaves the text to sqlglot and the converter, which refuse it with
their own message. Nesting is tracked with an explicit stack, so deep parentheses cost no recursion.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import QueryError
from .lexical import LexicalError, Token, tokens
from .positions import error
from .sql_hints import INSTEAD, OTHER_STATEMENTS, close_keyword, next_token

A_VALUE, A_CONDITION, A_COLUMN, A_NUMBER = "a value", "a condition", "a column", "a number"
STATEMENTS = ("SELECT", "LOOKUP", "SEARCH", "TRAVERSE", "EXPLAIN")
_STARTS = "a query starts with SELECT, LOOKUP, SEARCH, TRAVERSE or EXPLAIN"
_READ_ONLY = "a query only reads (SELECT …, LOOKUP, SEARCH, TRAVERSE)"

# Words that end an operand and continue the expression.
_OPERATOR_WORDS = frozenset(("and", "or", "like", "ilike", "in", "is", "between", "escape"))
# Operators and modifiers the converter names better than a syntax message: checking stops there.
_DEFER_OPERATOR_WORDS = frozenset((
    "glob", "similar", "regexp", "rlike", "notnull", "isnull", "collate", "over", "filter", "within", "respect",
    "ignore", "at", "div", "mod", "overlaps", "xor", "qualify",
))
# Words that start an expression the converter refuses by name (CASE expression, CAST, EXISTS …).
_DEFER_OPERAND_WORDS = frozenset((
    "case", "cast", "try_cast", "exists", "interval", "array", "struct", "map", "distinct", "all", "any", "some",
    "extract", "lambda", "unique", "columns", "unpack",
))
# Words that cannot be a name without quotes (sqlglot reads them as keywords wherever they stand).
_RESERVED = frozenset((
    "select", "from", "where", "having", "qualify", "window", "union", "intersect", "except", "join", "inner",
    "outer", "cross", "lateral", "on", "using", "as", "when", "then", "else", "into", "for", "only", "fetch",
    "create", "alter", "drop", "insert", "grant", "revoke", "rollback", "install", "force", "returning",
    "summarize", "tablesample", "uncache", "partitioned_by", "positional", "notnull", "case", "distinct",
    "and", "or", "not", "like", "ilike", "in", "is", "between", "glob", "regexp", "rlike", "asc", "desc",
))
_JOIN_WORDS = frozenset(("join", "inner", "left", "right", "full", "outer", "cross", "natural", "lateral", "asof",
                         "positional", "anti", "semi", "straight_join"))
_SIMPLE_CLAUSES = frozenset(("from", "where", "having", "qualify", "window", "fetch", "union", "intersect",
                             "except", "select"))
# Clauses the converter refuses by name (JOIN and FETCH get their own message here).
_DEFER_CLAUSES = frozenset(("having", "qualify", "window", "union", "intersect", "except"))
_RANK = {"select": 0, "from": 1, "where": 3, "group": 4, "order": 6, "limit": 7, "offset": 7}
_NAME = {"group": "GROUP BY", "order": "ORDER BY"}
_ASCII_OPERATORS = {"≠": "!= or <>", "≤": "<=", "≥": ">=", "−": "-", "–": "-", "×": "*", "÷": "/", "…": "..."}
_AGGREGATES = frozenset(("count", "sum", "avg", "min", "max"))
_TYPED_LITERALS = frozenset(("timestamp", "timestamptz", "date", "time", "datetime", "timestamp_s",
                             "timestamp_ms", "timestamp_ns"))
_BINARY_OPS = frozenset(("=", "==", "!=", "<>", "<", "<=", ">", ">=", "+", "-", "*", "/", "//", "%", "**", "||",
                         "&", "|", "^", "<<", ">>", "->", "->>", "@>", "<@", "&&", "!~", "<->"))
# After each clause: the keywords a misspelt word is compared with, and what may follow.
_NEXT = {
    "select": (("FROM",), "',' or FROM"),
    "from": (("WHERE", "GROUP BY", "ORDER BY", "LIMIT", "OFFSET"),
             "WHERE, GROUP BY, ORDER BY, LIMIT, OFFSET or the end of the query"),
    "where": (("AND", "OR", "NOT", "IN", "IS", "LIKE", "ILIKE", "BETWEEN", "GROUP BY", "ORDER BY", "LIMIT", "OFFSET"),
              "an operator (=, <, LIKE, IN …), AND, OR, GROUP BY, ORDER BY, LIMIT or the end of the query"),
    "group": (("ORDER BY", "LIMIT", "OFFSET"), "',', ORDER BY, LIMIT, OFFSET or the end of the query"),
    "order": (("ASC", "DESC", "NULLS FIRST", "NULLS LAST", "LIMIT", "OFFSET"),
              "',', ASC, DESC, NULLS FIRST, NULLS LAST, LIMIT, OFFSET or the end of the query"),
    "limit": (("OFFSET",), "OFFSET or the end of the query"),
    "offset": (("LIMIT",), "LIMIT or the end of the query"),
    "condition": (("AND", "OR", "NOT", "IN", "IS", "LIKE", "ILIKE", "BETWEEN"),
                  "an operator (=, <, LIKE, IN …), AND, OR or the end of the condition"),
}


class _Defer(Exception):
    """Stop checking: the text goes to sqlglot and the converter, which name the construct."""


@dataclass(slots=True)
class _Frame:
    """An open parenthesis: ``kind`` is call (function arguments), in (an IN list) or paren."""

    kind: str
    opener: Token
    between: int = 0  # BETWEENs waiting for their AND
    function: str = ""  # the called function's name (kind call)
    commas: int = 0


def check_select(text: str, user_text: str, start: int = 0) -> None:
    """Check the statement at offset ``start`` of ``text`` (the text sqlglot will read: the user's text with
    parameters renamed, same length); errors quote ``user_text``."""
    with contextlib.suppress(_Defer):
        _Checker(text, user_text, start, len(text)).statement()


def check_condition(text: str, user_text: str, start: int, end: int) -> None:
    """Check the WHERE condition ``text[start:end]`` (a WHERE clause without the keyword)."""
    with contextlib.suppress(_Defer):
        _Checker(text, user_text, start, end).condition()


class _Checker:
    """One walk over the tokens of a statement or condition; the first error found is raised."""

    def __init__(self, text: str, user_text: str, start: int, end: int) -> None:
        self.user_text = user_text
        try:
            self.toks = tokens(text, start, end)
        except LexicalError as exc:
            raise error(f"syntax error: {exc.message}", user_text, exc.pos) from None
        if end < len(user_text):  # a SEARCH condition ends before LIMIT: show what follows it
            follow = next_token(user_text, end)
            if follow is not None:
                self.toks[-1] = Token("end", follow.text, follow.pos)
        self.i = 0
        self.frames: list[_Frame] = []
        self.alias: Token | None = None  # a name just read as an implicit alias (maybe a misspelt keyword)
        self.from_first = False

    # -- tokens ----------------------------------------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else self.toks[-1]

    def next(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def shown(self, tok: Token) -> str:
        if tok.kind == "end":
            return f"'{tok.text}'" if tok.text else "end of query"
        text = self.user_text[tok.pos:tok.end]
        if len(text) > 40:
            text = text[:37] + "…"
        if not text.isprintable():
            text = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
        if tok.kind == "str":
            return f"string {text}"
        return f"'{text}'" if tok.kind != "qident" else text

    def fail(self, message: str, tok: Token) -> QueryError:
        return error(f"syntax error: {message}", self.user_text, tok.pos)

    def clause_at(self, k: int = 0) -> str | None:
        """The clause the token ``k`` ahead starts (where, group, order, limit …, join), or ``None``."""
        tok, nxt = self.peek(k), self.peek(k + 1)
        word = tok.word
        if word in _SIMPLE_CLAUSES:
            return word
        if word in ("group", "order"):
            return word if nxt.word == "by" else None
        if word in ("limit", "offset"):
            counted = nxt.kind in ("num", "param", "end") or nxt.is_op("-", "(") or nxt.word == "all"
            return word if counted else None
        if word == "join" or (word in _JOIN_WORDS and nxt.word in _JOIN_WORDS):
            return "join"
        return None

    # -- statements ------------------------------------------------------------------------------------
    def statement(self) -> None:
        self._balanced()
        first = self.peek()
        if first.word == "select":
            self.next()
            self.select_list(first)
            if self.peek().word == "from":
                self.from_clause(self.next())
                self.tail("from")
            else:
                self.tail("select")
        elif first.word == "from":
            self.from_first = True
            self.from_clause(self.next())
            self.tail("from")
        else:
            self._not_select(first)

    def _not_select(self, first: Token) -> None:
        word = first.word
        if word in ("with", "table") or first.is_op("("):
            raise _Defer  # WITH, TABLE t, a parenthesised query: the converter names them
        if word in INSTEAD or word in OTHER_STATEMENTS:
            label = first.text.upper()
            advice = f"; {INSTEAD[word]}" if word in INSTEAD else ""
            raise error(f"{label} statements are not supported: {_READ_ONLY}{advice}", self.user_text, first.pos)
        if first.kind == "end":
            raise error("empty query: expected SELECT …, LOOKUP, SEARCH or TRAVERSE")
        guess = close_keyword(first.text, STATEMENTS) if first.kind == "word" else None
        if guess is not None:
            raise self.fail(f"unknown statement {self.shown(first)}: did you mean {guess}? ({_STARTS})", first)
        if first.kind == "word":
            raise self.fail(f"unknown statement {self.shown(first)}: {_STARTS}", first)
        raise self.fail(f"{_STARTS}, got {self.shown(first)}", first)

    def _balanced(self) -> None:
        """Every '(' closed and every ')' opened; one statement (only ';' after the first ';')."""
        opened: list[Token] = []
        for k, tok in enumerate(self.toks):
            if tok.is_op("("):
                opened.append(tok)
            elif tok.is_op(")"):
                if not opened:
                    raise self.fail("unmatched ')': no '(' before it is open", tok)
                opened.pop()
            elif tok.is_op(";"):
                rest = self.toks[k + 1:-1]
                if any(not t.is_op(";") for t in rest):
                    raise error("only one statement per query", self.user_text, tok.pos)
                self.toks[k] = Token("end", "", tok.pos)
                del self.toks[k + 1:]
                break
        if opened:
            raise self.fail("'(' is never closed: a ')' is missing", opened[0])

    def condition(self) -> None:
        self._balanced()
        if self.peek().kind == "end":
            raise self.fail("WHERE needs a condition", self.peek())
        self.expression(Token("word", "WHERE", -1), A_CONDITION)
        tok = self.peek()
        if tok.kind == "end":
            return
        clause = self.clause_at()
        if clause is not None:
            name = _NAME.get(clause, clause.upper())
            raise error(f"{name} is not allowed in a WHERE condition", self.user_text, tok.pos)
        raise self.unexpected(tok, "condition")

    # -- clauses ---------------------------------------------------------------------------------------
    def select_list(self, select: Token) -> None:
        tok = self.peek()
        if tok.word in ("distinct", "all"):
            raise _Defer
        if tok.word == "top" and self.peek(1).kind in ("num", "param"):
            raise self.fail("TOP n is not supported: put LIMIT n at the end of the query", tok)
        if tok.word == "from" and self.peek(1).word != "from":
            raise self.fail(f"SELECT needs a column list (* or col, …) before {self.shown(tok)}", tok)
        self.items(select, A_COLUMN, self.select_item)

    def select_item(self, intro: Token) -> None:
        self.expression(intro, A_COLUMN)
        self.alias = None
        tok = self.peek()
        if tok.word == "as":
            self.next()
            name = self.peek()
            if name.kind in ("qident", "str") or (name.kind == "word" and self._may_name(name)):
                self.next()
                return
            raise self.fail(f"AS needs a name after it, got {self.shown(name)}{self._quote_hint(name)}", name)
        if tok.kind == "qident" or (tok.kind == "word" and self._may_name(tok) and not self.clause_at()
                                    and tok.word not in _OPERATOR_WORDS and tok.word not in _DEFER_OPERATOR_WORDS):
            self.alias = self.next()

    def items(self, intro: Token, what: str, item: Callable[[Token], None]) -> None:
        """Comma-separated items after ``intro``: a comma with nothing before or after it is an error."""
        tok = self.peek()
        if tok.is_op(","):
            raise self.fail(f"stray ',' right after {self._name(intro)}: {what} is missing before it", tok)
        item(intro)
        while self.peek().is_op(","):
            comma = self.next()
            nxt = self.peek()
            if nxt.is_op(","):
                raise self.fail(f"stray ',': {what} is missing between two commas", nxt)
            if nxt.kind == "end" or self.clause_at() is not None:
                raise self.fail(f"stray ',' before {self.shown(nxt)}: remove it or add {what} after it", comma)
            item(comma)

    def from_clause(self, keyword: Token) -> None:
        self.alias = None
        tok = self.peek()
        if tok.is_op("("):
            raise _Defer  # a subquery in FROM
        if tok.kind == "str":
            raise self.fail(f"FROM needs a table name, got {self.shown(tok)}: write a name without quotes, or in "
                            f"double quotes (\"my table\")", tok)
        if tok.kind == "end" or self.clause_at() is not None or tok.kind not in ("word", "qident"):
            raise self.fail(f"FROM needs a table name after it, got {self.shown(tok)}{self._quote_hint(tok)}", tok)
        if tok.kind == "word" and tok.word in _RESERVED:
            raise self.fail(f"FROM needs a table name after it, got {self.shown(tok)}{self._quote_hint(tok)}", tok)
        self.next()
        if self.peek().is_op(".") and self.peek(1).kind not in ("word", "qident"):
            raise self.fail(f"'.' needs a name after it, got {self.shown(self.peek(1))}", self.peek(1))
        if self.peek().is_op(".", "("):
            raise _Defer  # schema-qualified name or table function: the converter names it
        tok = self.peek()
        if tok.word == "as":
            self.next()
            name = self.peek()
            if name.kind == "qident" or (name.kind == "word" and self._may_name(name)):
                self.next()
            else:
                raise self.fail(f"AS needs a name after it, got {self.shown(name)}{self._quote_hint(name)}", name)
        elif tok.kind == "qident" or (tok.kind == "word" and self._may_name(tok) and self.clause_at() is None
                                      and tok.word not in _JOIN_WORDS and tok.word not in ("tablesample", "sample")):
            self.alias = self.next()
        if self.peek().is_op(",") and (self.peek(1).kind == "end" or self.clause_at(1) is not None):
            raise self.fail(f"stray ',' before {self.shown(self.peek(1))}: remove it (a query reads one table)",
                            self.peek())
        if self.peek().is_op(",") or self.clause_at() == "join" or self.peek().word in _JOIN_WORDS:
            raise _Defer  # several tables or a join: the converter names it

    def tail(self, context: str) -> None:
        """The clauses after the SELECT list or the FROM table, in order, each once."""
        seen = {"select", "from"} if context == "from" and not self.from_first else {context}
        rank, last = self._rank(context), context
        while True:
            tok = self.peek()
            if tok.kind == "end":
                return
            clause = self.clause_at()
            if clause is None and tok.word in ("limit", "offset"):
                clause = tok.word  # LIMIT x: the converter says what LIMIT takes
            if clause is None and tok.word in ("group", "order"):
                raise self.fail(f"{tok.text.upper()} needs BY after it ({tok.text.upper()} BY col, …), got "
                                f"{self.shown(self.peek(1))}", self.peek(1))
            if clause is None:
                raise self.unexpected(tok, last)
            if clause == "fetch":
                raise self.fail("FETCH … ROWS is not supported: write LIMIT n (and OFFSET m)", tok)
            if clause == "join":
                raise error("JOIN is not supported (a query reads one table)", self.user_text, tok.pos)
            if clause in _DEFER_CLAUSES:
                raise _Defer
            name = _NAME.get(clause, clause.upper())
            if clause in seen:
                raise self.fail(f"{name} is given twice", tok)
            if "from" not in seen and clause not in ("from", "select"):
                alias = self.alias if self.alias is not None and self.toks[self.i - 1] is self.alias else None
                hint = f" (is {self.shown(alias)} the table? write FROM {alias.text})" if alias is not None else ""
                raise self.fail(f"a FROM clause naming a table is required before {name}{hint}", tok)
            if self._rank(clause) < rank:
                raise self.fail(f"{name} must come before {_NAME.get(last, last.upper())}", tok)
            seen.add(clause)
            rank, last = self._rank(clause), clause
            self.clause(clause, self.next())

    def _rank(self, clause: str) -> int:
        if clause == "select" and self.from_first:
            return 2  # FROM t SELECT … (DuckDB's FROM-first form)
        return _RANK[clause]

    def clause(self, clause: str, keyword: Token) -> None:
        self.alias = None
        if clause in ("group", "order"):
            by = self.next()
            intro = Token("word", f"{keyword.text} {by.text}", keyword.pos)
            self.items(intro, A_COLUMN, self.order_item if clause == "order" else self.group_item)
        elif clause == "where":
            self.expression(keyword, A_CONDITION)
        elif clause == "select":
            self.select_list(keyword)
        elif clause == "from":
            self.from_clause(keyword)
        else:  # limit, offset
            if self.peek().word == "all":
                raise _Defer  # LIMIT ALL: the converter says to leave it out
            self.expression(keyword, A_NUMBER)
            if clause == "limit" and self.peek().is_op(","):  # LIMIT offset, count (MySQL, SQLite)
                self.expression(self.next(), A_NUMBER)
            if clause == "offset" and self.peek().word in ("row", "rows"):
                raise _Defer

    def group_item(self, intro: Token) -> None:
        self.expression(intro, A_COLUMN)

    def order_item(self, intro: Token) -> None:
        self.expression(intro, A_COLUMN)
        if self.peek().word in ("asc", "desc"):
            self.next()
        if self.peek().word == "nulls":
            self.next()
            if self.peek().word not in ("first", "last"):
                raise self.fail(f"NULLS needs FIRST or LAST after it, got {self.shown(self.peek())}", self.peek())
            self.next()

    def unexpected(self, tok: Token, context: str) -> QueryError:
        candidates, expected = _NEXT[context]
        guess = close_keyword(tok.text, candidates) if tok.kind == "word" else None
        if guess is not None:
            return self.fail(f"unexpected {self.shown(tok)}: did you mean {guess}?", tok)
        alias = self.alias
        if alias is not None and self.toks[self.i - 1] is alias:
            for cands in (candidates, _NEXT["from"][0] if context == "select" else ()):
                guess = close_keyword(alias.text, cands)
                if guess is not None:
                    return self.fail(f"unexpected {self.shown(tok)} after {self.shown(alias)}: did you mean "
                                     f"{guess}?", tok)
        return self.fail(f"unexpected {self.shown(tok)}; expected {expected}{self._quote_hint(tok)}", tok)

    # -- expressions -----------------------------------------------------------------------------------
    def expression(self, intro: Token, what: str) -> None:
        """One expression; stops before the first token that cannot continue it outside parentheses.

        ``intro`` is the token it follows (the clause keyword or a comma) and ``what`` names what is expected
        (a condition, a column, a number)."""
        self.frames = [_Frame("top", intro)]
        prev, prev_what = intro, what  # what the next operand follows: an operator, '(', ',' or ``intro``
        operand = True  # an operand is expected (else an operator, or the end)
        while True:
            tok = self.peek()
            frame = self.frames[-1]
            if operand:
                after = self.operand(tok, frame, prev, prev_what)
                if after is None:
                    operand = False
                else:
                    prev, prev_what = after
                continue
            # an operand was read: an operator, or the end of this expression
            if tok.is_op(")") and len(self.frames) > 1:
                self._no_between(frame, tok)
                if frame.function.lower() in _AGGREGATES and frame.commas:
                    raise error(f"{frame.function.upper()} takes one column, got {frame.commas + 1} arguments",
                                self.user_text, frame.opener.pos - len(frame.function))
                self.frames.pop()
                self.next()
            elif tok.is_op(",") and len(self.frames) > 1:
                self._no_between(frame, tok)
                frame.commas += 1
                prev, prev_what, operand = self.next(), A_VALUE, True
            elif tok.is_op("::"):
                self.next()
                if self.peek().kind != "word":
                    raise self.fail(f"'::' needs a type name after it, got {self.shown(self.peek())}", self.peek())
                self.next()
                if self.peek().is_op("(", "["):
                    raise _Defer
            elif tok.kind == "op" and tok.text in _BINARY_OPS:
                prev, prev_what, operand = self.next(), A_VALUE, True
            elif tok.word in _OPERATOR_WORDS or tok.word == "not":
                after = self.operator_word(tok, frame)
                if after is not None:
                    prev, prev_what = after
                    operand = True
            elif tok.word in _DEFER_OPERATOR_WORDS or tok.is_op("[", "{", "."):
                raise _Defer  # the converter names these operators, subscripts and struct accesses
            elif tok.kind == "bad":
                instead = _ASCII_OPERATORS.get(tok.text)
                why = (f"write {instead} instead" if instead else
                       "outside quotes a query holds names, numbers, operators and punctuation")
                raise self.fail(f"unexpected character {self.shown(tok)}: {why}", tok)
            elif len(self.frames) > 1:
                if frame.kind == "call":
                    raise _Defer  # CAST(x AS t), EXTRACT(y FROM d) …: the converter names the function
                raise self.unexpected_in(tok, frame)
            else:
                self._no_between(frame, tok)
                return

    def operand(self, tok: Token, frame: _Frame, prev: Token, prev_what: str) -> tuple[Token, str] | None:
        """Read what stands where an operand is expected: ``None`` once a whole operand is read, else the
        token the operand must now follow (a prefix NOT or '-', a '(') and what it must be."""
        kind, word = tok.kind, tok.word
        if tok.text == "?" and self.peek(1).kind == "num" and self.peek(1).pos == tok.end:
            raise self.fail(f"numbered parameters like {self.shown(tok)[1:-1]}{self.peek(1).text} are not "
                            f"supported: use ? (bound in order) or :name", tok)
        if kind in ("num", "str", "param") or tok.is_op("*") or word in ("true", "false", "null"):
            self.next()
            return None
        if kind == "qident":
            self.next()
            self.path()
            return None
        if tok.is_op("-", "+", "~"):
            return self.next(), A_VALUE
        if word == "not":
            return self.next(), A_CONDITION
        if tok.is_op("("):
            if self.peek(1).word in ("select", "with", "from") or self.peek(1).is_op(")"):
                raise _Defer  # a subquery or (): the converter names it
            self.frames.append(_Frame("paren", self.next()))
            return tok, A_VALUE
        if tok.is_op(")") and prev is frame.opener and frame.kind in ("call", "in"):
            self.frames.pop()
            self.next()
            return None  # COUNT() or IN (): the converter says what they need
        if word == "case":
            raise error("CASE expression is not supported", self.user_text, tok.pos)
        if word in _DEFER_OPERAND_WORDS or tok.is_op("[", "{"):
            raise _Defer
        if word in _TYPED_LITERALS and self.peek(1).kind == "str":
            self.next()
            self.next()
            return None
        if kind == "word" and word not in _RESERVED and self.clause_at() is None:
            self.next()
            if self.peek().is_op("(") and self.peek().pos == tok.end:
                opener = self.next()
                self.frames.append(_Frame("call", opener, function=tok.text))
                return opener, A_VALUE
            if self.peek().is_op("("):
                opener = self.next()
                self.frames.append(_Frame("call", opener))
                return opener, A_VALUE
            self.path()
            return None
        raise self.missing(tok, prev, prev_what, frame)

    def operator_word(self, tok: Token, frame: _Frame) -> tuple[Token, str] | None:
        """Read AND, OR, NOT …, LIKE, IN, IS, BETWEEN, ESCAPE after an operand: the token an operand must
        follow now and what it is, or ``None`` when the operator is complete (IS NULL, IN ?)."""
        word = tok.word
        if word == "and" and frame.between:
            frame.between -= 1
            self.next()
            return Token("word", "BETWEEN … AND", tok.pos), A_VALUE
        if word in ("and", "or"):
            self._no_between(frame, tok)
            return self.next(), A_CONDITION
        if word in ("like", "ilike", "escape"):
            return self.next(), A_VALUE
        if word == "between":
            frame.between += 1
            return self.next(), A_VALUE
        if word == "is":
            self.next()
            if self.peek().word == "not":
                self.next()
            what = self.peek()
            if what.word == "distinct":
                raise _Defer
            if what.kind != "word" or self.clause_at() is not None:
                raise self.fail(f"IS needs NULL or NOT NULL after it, got {self.shown(what)}", what)
            self.next()
            return None
        if word == "in":
            return self.in_list(self.next())
        # NOT after an operand: NOT IN, NOT LIKE, NOT BETWEEN, NOT NULL
        follow = self.peek(1)
        if follow.word in ("like", "ilike", "between", "in"):
            self.next()
            return self.operator_word(follow, frame)
        if follow.word == "null":
            self.next()
            self.next()
            return None
        if follow.word in _DEFER_OPERATOR_WORDS:
            raise _Defer
        raise self.fail(f"NOT cannot follow {self.shown(self.toks[self.i - 1])}: write NOT before a condition "
                        f"(NOT a = 1), or use NOT IN, NOT LIKE, NOT BETWEEN or IS NOT NULL", tok)

    def in_list(self, keyword: Token) -> tuple[Token, str] | None:
        tok = self.peek()
        if tok.kind == "param":
            self.next()  # IN ? binds a whole list
            return None
        if tok.is_op("(") and self.peek(1).word not in ("select", "with", "from"):
            opener = self.next()
            self.frames.append(_Frame("in", opener))
            return opener, A_VALUE
        if tok.is_op("(") or tok.kind == "word":
            raise _Defer  # IN (SELECT …), IN column: the converter names them
        raise self.fail(f"IN needs a list in parentheses after it, as in IN ('a', 'b'), got {self.shown(tok)}", tok)

    def path(self) -> None:
        """The rest of a dotted path after its first name: ``.name``, ``."name"`` or a final ``.*``."""
        while self.peek().is_op("."):
            dot = self.next()
            tok = self.peek()
            if tok.kind == "word" and tok.pos > dot.end and self.clause_at() is not None:
                raise self.fail(f"'.' needs a field name after it, got {self.shown(tok)}", tok)
            if tok.kind in ("word", "qident"):
                self.next()
            elif tok.is_op("*"):
                self.next()
                return
            else:
                raise self.fail(f"'.' needs a field name after it, got {self.shown(tok)}", tok)

    def _no_between(self, frame: _Frame, tok: Token) -> None:
        if frame.between:
            raise self.fail(f"BETWEEN needs AND, as in BETWEEN 1 AND 5, got {self.shown(tok)}", tok)

    def missing(self, tok: Token, prev: Token, prev_what: str, frame: _Frame) -> QueryError:
        """The error for ``tok`` standing where an operand (a value, column or condition) should be."""
        if tok.is_op(","):
            if prev.is_op(","):
                return self.fail(f"stray ',': {prev_what} is missing between two commas", tok)
            return self.fail(f"stray ',' right after {self._name(prev)}: {prev_what} is missing before it", tok)
        if prev.is_op(",") and (tok.is_op(")") or tok.kind == "end"):
            return self.fail(f"stray ',' before {self.shown(tok)}: {prev_what} is missing after it", prev)
        is_operator = (tok.kind == "op" and tok.text in _BINARY_OPS) or tok.word in _OPERATOR_WORDS
        starts = prev is frame.opener or prev.is_op("(", ",")
        if is_operator and starts and not tok.is_op("*"):
            needs = A_CONDITION if tok.word in ("and", "or") else A_VALUE
            return self.fail(f"{self._name(tok)} needs {needs} before it", tok)
        if tok.kind in ("op", "bad") and not is_operator and not tok.is_op(")"):
            return self.fail(f"unexpected {self.shown(tok)}: expected {prev_what} (a column, 'text', a number "
                             f"or a parameter) after {self._name(prev)}", tok)
        return self.fail(f"{self._name(prev)} needs {prev_what} after it, got {self.shown(tok)}"
                         f"{self._quote_hint(tok)}", tok)

    def unexpected_in(self, tok: Token, frame: _Frame) -> QueryError:
        guess = close_keyword(tok.text, _NEXT["condition"][0]) if tok.kind == "word" else None
        if guess is not None:
            return self.fail(f"unexpected {self.shown(tok)}: did you mean {guess}?", tok)
        expected = "',' or ')'" if frame.kind == "in" else "an operator, AND, OR or ')'"
        return self.fail(f"unexpected {self.shown(tok)} inside parentheses; expected {expected}"
                         f"{self._quote_hint(tok)}", tok)

    # -- names -----------------------------------------------------------------------------------------
    def _may_name(self, tok: Token) -> bool:
        """A word that may be a name (an alias) without quotes."""
        return tok.word not in _RESERVED and tok.word not in ("group", "order", "limit", "offset", "true", "false",
                                                              "null", "nulls")

    def _name(self, tok: Token) -> str:
        """How a keyword or operator token is named in a message."""
        if tok.kind == "word":
            return tok.text.upper()
        return f"'{tok.text}'"

    def _quote_hint(self, tok: Token) -> str:
        """For a keyword where a name could stand (and that does not start its clause there): how to use it
        as a name."""
        if tok.kind != "word" or tok.word in _OPERATOR_WORDS or tok.word in ("not", "by", "true", "false", "null"):
            return ""
        if tok.word not in _RESERVED and tok.word not in ("group", "order", "limit", "offset"):
            return ""
        k = next((k for k in (0, 1, -1) if self.peek(k) is tok), None)
        if k is not None and self.clause_at(k) is not None:
            after = self.peek(k + (2 if tok.word in ("group", "order") else 1))
            named = after.kind == "end" or after.is_op(",", ")") or (after.kind == "op" and after.text in _BINARY_OPS)
            if not named and not (after.kind == "word" and self.clause_at(k + 1) is not None):
                return ""
        return f" ({tok.text} is an SQL keyword: to use it as a name, quote it: \"{tok.text}\")"
