"""SQL text -> typed logical plan, through sqlglot (DuckDB dialect).

The conversion is a whitelist: every sqlglot node and every clause it does not know is a
:class:`~rem_db.QueryError` naming the construct and its position — never silently dropped. AND / OR
chains are flattened without recursion, so a WHERE with thousands of terms converts fine.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..storage.codec import INT_MAX, INT_MIN
from . import lexical, syntax
from .plan import (
    AGGREGATES,
    Aggregate,
    And,
    Between,
    Column,
    Compare,
    Const,
    Expr,
    Field,
    InList,
    IsNull,
    Like,
    Not,
    Operand,
    Or,
    OrderKey,
    Param,
    SelectPlan,
    Star,
    Truth,
)
from .positions import error, offset_of
from .sql_hints import parse_error_message

_SELECT_CLAUSES = {"expressions", "from", "from_", "where", "group", "order", "limit", "offset"}
_CLAUSE_NAMES = {
    "joins": "JOIN", "distinct": "DISTINCT", "having": "HAVING", "with": "WITH (common table expression)",
    "with_": "WITH (common table expression)", "qualify": "QUALIFY", "windows": "WINDOW",
    "laterals": "LATERAL", "into": "SELECT INTO", "locks": "FOR UPDATE", "sample": "TABLESAMPLE",
    "pivots": "PIVOT", "prewhere": "PREWHERE", "connect": "CONNECT BY", "match": "MATCH_RECOGNIZE",
    "cluster": "CLUSTER BY", "distribute": "DISTRIBUTE BY", "sort": "SORT BY", "settings": "SETTINGS",
    "kind": "SELECT AS", "hint": "query hint", "fetch": "FETCH", "options": "OPTION",
}
_KEYWORDS = {"joins": "join", "distinct": "distinct", "having": "having", "qualify": "qualify",
             "windows": "window", "with": "with", "with_": "with", "fetch": "fetch", "sample": "tablesample"}
_COMPARE = {"EQ": "=", "NEQ": "!=", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "IntDiv": "//", "Mod": "%", "DPipe": "||",
              "BitwiseAnd": "&", "BitwiseOr": "|", "BitwiseXor": "^", "Pow": "**", "NullSafeEQ":
              "IS NOT DISTINCT FROM", "NullSafeNEQ": "IS DISTINCT FROM", "SimilarTo": "SIMILAR TO",
              "RegexpLike": "~", "Glob": "GLOB", "Xor": "XOR", "Distance": "<->", "ArrayContains": "@>",
              "Overlaps": "&&", "BitwiseLeftShift": "<<", "BitwiseRightShift": ">>", "Neg": "unary -",
              "BitwiseNot": "~"}
_NAMED_NODES = {
    "Case": "CASE expression", "If": "IF expression", "Cast": "CAST", "TryCast": "TRY_CAST",
    "Subquery": "subquery", "Select": "subquery", "Union": "UNION", "Intersect": "INTERSECT",
    "Except": "EXCEPT", "Exists": "EXISTS", "Window": "window function (OVER)", "Tuple": "row value",
    "Array": "array literal", "Struct": "struct literal", "Interval": "INTERVAL", "Lambda": "lambda",
    "Star": "*", "Any": "ANY", "All": "ALL", "Bracket": "subscript [ ]", "Distinct": "DISTINCT",
    "Join": "JOIN", "Parameter": "parameter $", "Collate": "COLLATE", "Unnest": "UNNEST",
    "Alias": "alias", "Identifier": "identifier", "Filter": "FILTER clause", "Escape": "ESCAPE",
    "Map": "map literal", "JSONExtract": "JSON operator", "JSONExtractScalar": "JSON operator",
    "HexString": "hex literal", "BitString": "bit string", "ByteString": "byte string",
}
_TS_TYPES = {"TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMPNTZ", "TIMESTAMPLTZ", "DATE", "DATETIME", "TIMESTAMP_S",
             "TIMESTAMP_MS", "TIMESTAMP_NS"}
_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.\w+, text: (.*?), line: \d+, col: \d+, start: \d+, "
                         r"end: \d+, comments: \[.*?\]>")
WHERE_PREFIX = "SELECT * FROM __rem_where__ WHERE "


def _sqlglot() -> Any:
    import sqlglot

    return sqlglot


class Counter:
    """Numbers ``?`` parameters in text order and records ``:name`` ones; refuses a mix of both."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.qmark_offsets, self.named_offsets = lexical.placeholders(text)
        self.positional = 0
        self.named: list[str] = []
        self.renamed: dict[str, str] = {}  # names sqlglot saw -> the user's names

    def next_qmark_pos(self) -> int:
        k = self.positional
        return self.qmark_offsets[k] if k < len(self.qmark_offsets) else -1

    def qmark(self) -> Param:
        if self.named:
            raise self._mixed(self.next_qmark_pos())
        k = self.positional
        self.positional += 1
        pos = self.qmark_offsets[k] if k < len(self.qmark_offsets) else -1
        return Param(k, pos)

    def name(self, name: str) -> Param:
        name = self.renamed.get(name, name)
        if self.positional:
            raise self._mixed(self.named_offsets.get(name, -1))
        if name.startswith("__rem_"):
            raise error(f"parameter name :{name} is reserved", self.text, self.named_offsets.get(name, -1))
        if name not in self.named:
            self.named.append(name)
        return Param(name, self.named_offsets.get(name, -1))

    def _mixed(self, pos: int) -> Exception:
        return error("a query uses either ? parameters or :name parameters, not both", self.text, pos)


class Converter:
    """Converts one parsed sqlglot statement into a :class:`SelectPlan` (or a WHERE expression)."""

    def __init__(self, text: str, parsed_text: str, lists: dict[str, list[lexical.Item]], counter: Counter,
                 shift: int = 0) -> None:
        self.sg = _sqlglot()
        self.exp = self.sg.exp
        self.text = text  # the user's text (positions are reported in it)
        self.parsed_text = parsed_text  # what sqlglot saw (offsets shifted by ``shift``)
        self.lists = lists
        self.counter = counter
        self.shift = shift
        self.table = ""
        self.alias: str | None = None

    # -- positions -----------------------------------------------------------------------------------
    def pos(self, node: Any, keyword: str | None = None) -> int:
        """The offset of a node: its first token with a position, or ``keyword`` just before it."""
        if isinstance(node, self.exp.Placeholder):
            if node.this is None:
                return self.counter.next_qmark_pos()
            name = str(node.this)
            return self.counter.named_offsets.get(self.counter.renamed.get(name, name), -1)
        first = -1
        for sub in node.walk():
            meta = sub.meta if sub._meta else None
            if meta and "start" in meta:
                start = meta["start"] + self.shift
                if first < 0 or start < first:
                    first = start
        if keyword:
            hay = self.text.lower()
            found = hay.rfind(keyword.lower(), 0, first if first >= 0 else len(hay))
            if found >= 0:
                return found
        return first

    def fail(self, message: str, node: Any = None, keyword: str | None = None) -> Exception:
        return error(message, self.text, self.pos(node, keyword) if node is not None else -1)

    def unsupported(self, node: Any, where: str = "") -> Exception:
        kind = type(node).__name__
        keyword = None
        if kind == "Anonymous":
            name, keyword = f"unknown function {node.name.upper()}()", node.name
        elif kind in _OPERATORS:
            name = f"operator {_OPERATORS[kind]}"
        elif kind in _NAMED_NODES:
            name = _NAMED_NODES[kind]
            keyword = {"Case": "case", "Cast": "cast", "Exists": "exists", "Window": "over", "Subquery": "(",
                       "Select": "select", "Interval": "interval"}.get(kind)
        elif isinstance(node, self.exp.Func):
            fname = node.sql_name() if hasattr(node, "sql_name") else kind
            name, keyword = f"function {fname.upper()}()", fname
        elif isinstance(node, self.exp.Literal | self.exp.Boolean | self.exp.Null):
            name = f"constant {node.sql(dialect='duckdb')}"
        else:
            name = kind
        return self.fail(f"{name} is not supported{where}", node, keyword)

    def args(self, node: Any, allowed: set[str]) -> bool:
        """Refuse any argument of ``node`` this converter does not understand; True when it is negated."""
        negated = False
        for key, value in node.args.items():
            if not value or key in allowed:
                continue
            if key == "negate":
                negated = True
                continue
            label = key.replace("_", " ").upper()
            raise self.fail(f"{label} in {type(node).__name__.upper()} is not supported", node)
        return negated

    # -- statements ----------------------------------------------------------------------------------
    def select(self, node: Any) -> SelectPlan:
        exp = self.exp
        if not isinstance(node, exp.Select):
            kind = type(node).__name__
            label = {"Union": "UNION", "Intersect": "INTERSECT", "Except": "EXCEPT"}.get(kind)
            if label is None:
                label = (str(node.this).split()[0].upper() if isinstance(node, exp.Command) and node.this
                         else kind.upper())
            start = self._first_word()
            typed = self.text[start:].split(None, 1)[0].upper() if self.text[start:].strip() else ""
            if label not in ("UNION", "INTERSECT", "EXCEPT") and label != typed:
                # not the statement the user typed (e.g. ``SELECT$1 …`` read as an alias): a syntax error,
                # never the parser's own name for what it built
                raise error("syntax error: this does not read as a query (SELECT … FROM table, LOOKUP, SEARCH "
                            "or TRAVERSE)", self.text, start)
            raise error(f"{label} statements are not supported: queries are read-only SELECTs over one "
                        f"table, or LOOKUP / SEARCH / TRAVERSE", self.text, max(self.pos(node), 0)
                        if label in ("UNION", "INTERSECT", "EXCEPT") else start)
        for key, value in node.args.items():
            if value and key not in _SELECT_CLAUSES:
                label = _CLAUSE_NAMES.get(key, key.upper())
                if key == "joins" and not any(value[0].args.get(k) for k in ("on", "using", "kind", "side")):
                    raise self.fail("several tables in FROM are not supported (a query reads one table)",
                                    value[0])
                target = value[0] if isinstance(value, list) else value
                kw = _KEYWORDS.get(key)
                pos = self.pos(target, kw) if hasattr(target, "walk") else -1
                why = " (a query reads one table)" if key in ("joins", "laterals", "with", "with_") else ""
                raise error(f"{label} is not supported{why}", self.text, pos)
        source = node.args.get("from_") or node.args.get("from")
        if source is None:
            raise error("a FROM clause naming a table is required", self.text, self._first_word())
        self._from(source)
        columns = tuple(self._column(e) for e in node.expressions)
        where = self.condition(node.args["where"].this) if node.args.get("where") else None
        group = self._group(node.args.get("group"), columns)
        order = self._order(node.args.get("order"), columns)
        limit, offset = self._limit_offset(node.args.get("limit"), node.args.get("offset"))
        plan = SelectPlan(table=self.table, columns=columns, where=where, group_by=group, order_by=order,
                          limit=limit, offset=offset, table_pos=self._table_pos, alias=self.alias)
        self._check_aggregation(plan)
        return plan

    def _first_word(self) -> int:
        stripped = len(self.text) - len(self.text.lstrip())
        return stripped if stripped < len(self.text) else 0

    def _from(self, source: Any) -> None:
        exp = self.exp
        if source.args.get("expressions"):
            raise self.fail("several tables in FROM are not supported (one table, no joins)", source.expressions[0])
        table = source.this
        if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
            subquery = isinstance(table, exp.Subquery | exp.Select)
            what = "subquery" if subquery else "table function"
            raise self.fail(f"{what} in FROM is not supported: name one table", table, "(" if subquery else None)
        for key, value in table.args.items():
            if value and key not in ("this", "alias"):
                label = "schema-qualified table name" if key in ("db", "catalog") else _CLAUSE_NAMES.get(
                    key, key.upper())
                raise self.fail(f"{label} is not supported", table)
        ident = table.this
        self.table = ident.this if ident.quoted else ident.this.lower()
        self._table_pos = self.pos(ident)
        alias = table.args.get("alias")
        if alias is not None:
            if alias.args.get("columns"):
                raise self.fail("column aliases on a table are not supported", alias)
            self.alias = alias.this.this if alias.this is not None else None

    def _column(self, node: Any) -> Column | Star:
        exp = self.exp
        if isinstance(node, exp.Star):
            return Star(self.pos(node))
        if isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
            qualifier = node.args.get("table")
            if qualifier is not None and qualifier.this in (self.table, self.alias):
                return Star(self.pos(node))
            raise self.fail(f"{node.sql()} does not name the table {self.table!r}", node)
        name = None
        if isinstance(node, exp.Alias):
            name = node.alias
            node = node.this
        if isinstance(node, exp.Column | exp.Dot):
            field = self.field(node)
            return Column(name or field.name, field, field.pos)
        if self._is_aggregate(node):
            agg = self.aggregate(node)
            return Column(name or agg.name, agg, agg.pos)
        if isinstance(node, exp.Placeholder):
            raise self.fail("parameters are not supported in the SELECT list", node)
        raise self.unsupported(node, " in the SELECT list (columns, * and COUNT/SUM/AVG/MIN/MAX only)")

    # -- operands --------------------------------------------------------------------------------------
    def field(self, node: Any) -> Field:
        exp = self.exp
        parts: list[str] = []
        first_pos = -1
        tail: list[str] = []
        while isinstance(node, exp.Dot):
            if not isinstance(node.expression, exp.Identifier):
                raise self.unsupported(node.expression)
            tail.append(node.expression.this)
            node = node.this
        if not isinstance(node, exp.Column):
            raise self.unsupported(node)
        self.args(node, {"catalog", "db", "table", "this"})
        for key in ("catalog", "db", "table", "this"):
            part = node.args.get(key)
            if part is None:
                continue
            if not isinstance(part, exp.Identifier):
                raise self.unsupported(part)
            parts.append(part.this)
            if first_pos < 0 and part.meta.get("start") is not None:
                first_pos = part.meta["start"] + self.shift
        parts.extend(reversed(tail))
        if len(parts) > 1 and parts[0] in {self.table, self.alias} - {None, ""}:
            parts = parts[1:]
        return Field(tuple(parts), first_pos)

    def operand(self, node: Any) -> Operand:
        exp = self.exp
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.Column | exp.Dot):
            return self.field(node)
        if isinstance(node, exp.Literal):
            self.args(node, {"this", "is_string"})
            pos = self.pos(node)
            return Const(self._in_range(self._literal(node), pos), pos)
        if isinstance(node, exp.Neg):
            inner = self.operand(node.this)
            if isinstance(inner, Const) and isinstance(inner.value, int | float) and not isinstance(inner.value,
                                                                                                     bool):
                pos = inner.pos - 1 if inner.pos > 0 else inner.pos
                return Const(self._in_range(-inner.value, pos), pos)
            raise self.unsupported(node)
        if isinstance(node, exp.Boolean):
            return Const(bool(node.this), self.pos(node, "true" if node.this else "false"))
        if isinstance(node, exp.Null):
            return Const(None, self.pos(node, "null"))
        if isinstance(node, exp.Placeholder):
            if node.this is None:
                return self.counter.qmark()
            name = str(node.this)
            if name.startswith(lexical.MARKER):
                raise self.fail("a list is only allowed after IN", node)
            if name.isdigit():
                raise self.fail(f"${name} parameters are not supported: use ? or :name", node)
            return self.counter.name(name)
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
            kind = node.args["to"].this.name if node.args.get("to") is not None else ""
            if kind in _TS_TYPES:
                from .values import ts_micros

                value = node.this.this
                if ts_micros(value) is None:
                    label = "DATE" if kind == "DATE" else "TIMESTAMP"
                    raise self.fail(f"{label} literal {value!r} is not an ISO-8601 date or timestamp", node.this)
                return Const(value, self.pos(node.this))
        if self._is_aggregate(node):
            raise self._aggregate_in_where(node)
        raise self.unsupported(node)

    def _literal(self, node: Any) -> Any:
        if node.is_string:
            return node.this
        text = str(node.this)
        try:
            return int(text)  # the range is checked where the sign is known (operand), not here
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise self.fail(f"number {text!r} is not supported", node) from None
        if not math.isfinite(number):
            raise self.fail(f"number {text} is out of range (larger than a 64-bit float can hold)", node)
        return number

    def _in_range(self, value: Any, pos: int) -> Any:
        """An integer literal that a stored value can equal: JSON integers are 64-bit (orjson), so a larger
        one is a mistake to report, not a comparison that silently matches nothing."""
        if value.__class__ is int and not INT_MIN <= value <= INT_MAX:
            raise error(f"integer {value} is out of range: stored integers are 64-bit ({INT_MIN} to {INT_MAX})",
                        self.text, pos)
        return value

    # -- conditions ----------------------------------------------------------------------------------
    def condition(self, node: Any) -> Expr:
        exp = self.exp
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.And | exp.Or):
            self.args(node, {"this", "expression"})
            cls = type(node)
            items = [self.condition(n) for n in self._flatten(node, cls)]
            return And(tuple(items)) if cls is exp.And else Or(tuple(items))
        if isinstance(node, exp.Not):
            self.args(node, {"this"})
            return Not(self.condition(node.this))
        kind = type(node).__name__
        if kind in _COMPARE:
            negated = self.args(node, {"this", "expression"})
            return self._negated(Compare(_COMPARE[kind], self.operand(node.this), self.operand(node.expression),
                                         self.pos(node)), negated)
        if isinstance(node, exp.In):
            negated = self.args(node, {"this", "expressions", "query", "unnest", "field"})
            return self._negated(self._in(node), negated)
        if isinstance(node, exp.Between):
            if node.args.get("symmetric"):
                raise self.fail("BETWEEN SYMMETRIC is not supported", node)
            negated = self.args(node, {"this", "low", "high"})
            return self._negated(Between(self.operand(node.this), self.operand(node.args["low"]),
                                         self.operand(node.args["high"]), self.pos(node)), negated)
        if isinstance(node, exp.Escape):
            self.args(node, {"this", "expression"})
            if not isinstance(node.this, exp.Like | exp.ILike):
                raise self.unsupported(node)
            escape = self.operand(node.expression)
            if not isinstance(escape, Const) or not isinstance(escape.value, str) or len(escape.value) != 1:
                raise self.fail("ESCAPE takes a single character", node.expression)
            negated = self.args(node.this, {"this", "expression"})
            return self._negated(self._like(node.this, escape.value), negated)
        if isinstance(node, exp.Like | exp.ILike):
            negated = self.args(node, {"this", "expression", "escape"})
            return self._negated(self._like(node, node.args.get("escape")), negated)
        if isinstance(node, exp.Is):
            negated = self.args(node, {"this", "expression"})
            if isinstance(node.expression, exp.Null):
                return self._negated(IsNull(self.operand(node.this), self.pos(node)), negated)
            left = self.pos(node.this)
            found = self.text.lower().find("is", left) if left >= 0 else -1
            raise error(f"IS {node.expression.sql().upper()} is not supported: use = TRUE / = FALSE or "
                        f"IS [NOT] NULL", self.text, found)
        if isinstance(node, exp.Column | exp.Dot | exp.Boolean | exp.Null | exp.Placeholder):
            operand = self.operand(node)
            return Truth(operand, operand.pos)
        if isinstance(node, exp.Literal):
            raise self.fail(f"constant {node.sql()} is not a condition", node)
        if self._is_aggregate(node):
            raise self._aggregate_in_where(node)
        raise self.unsupported(node, " in WHERE")

    @staticmethod
    def _negated(expr: Expr, negated: bool) -> Expr:
        return Not(expr) if negated else expr

    def _flatten(self, node: Any, cls: type[Any]) -> list[Any]:
        """Operands of a chain of one connective, in text order, without recursion."""
        out: list[Any] = []
        stack: list[Any] = [node]
        while stack:
            cur = stack.pop()
            while isinstance(cur, self.exp.Paren) and isinstance(cur.this, cls):
                cur = cur.this
            if isinstance(cur, cls):
                stack.append(cur.expression)
                stack.append(cur.this)
            else:
                out.append(cur)
        return out

    def _in(self, node: Any) -> InList:
        exp = self.exp
        if node.args.get("query") is not None:
            raise self.fail("subquery in IN is not supported: list the values, or bind a list parameter",
                            node.args["query"], "select")
        if node.args.get("unnest") is not None:
            raise self.fail("UNNEST is not supported", node.args["unnest"], "unnest")
        target = self.operand(node.this)
        sources = list(node.expressions)
        if node.args.get("field") is not None:
            sources = [node.args["field"]]
        if not sources:
            raise self.fail("IN needs at least one value", node)
        items: list[Operand] = []
        for item in sources:
            if isinstance(item, exp.Placeholder) and str(item.this or "").startswith(lexical.MARKER):
                items.extend(self._expand(self.lists[str(item.this)]))
                continue
            value = self.operand(item)
            if isinstance(value, Field):
                raise self.fail("IN list items must be literals or parameters", item)
            items.append(value)
        return InList(target, tuple(items), self.pos(node))

    def _expand(self, items: list[lexical.Item]) -> list[Operand]:
        out: list[Operand] = []
        for item in items:
            if item.kind == "const":
                out.append(Const(item.value, item.pos))
            elif item.kind == "qmark":
                out.append(self.counter.qmark())
            else:
                out.append(self.counter.name(item.value))
        return out

    def _like(self, node: Any, escape: Any) -> Like:
        exp = self.exp
        if isinstance(escape, exp.Expression):
            esc = self.operand(escape)
            if not isinstance(esc, Const) or not isinstance(esc.value, str) or len(esc.value) != 1:
                raise self.fail("ESCAPE takes a single character", escape)
            escape = esc.value
        if isinstance(node.expression, exp.Any | exp.All):
            raise self.unsupported(node.expression, " after LIKE")
        pattern = self.operand(node.expression)
        if isinstance(pattern, Field):
            raise self.fail("the LIKE pattern must be a string literal or a parameter", node.expression)
        return Like(self.operand(node.this), pattern, isinstance(node, exp.ILike), escape, self.pos(node))

    # -- aggregates, GROUP BY, ORDER BY, LIMIT ---------------------------------------------------------
    def _is_aggregate(self, node: Any) -> bool:
        exp = self.exp
        return isinstance(node, exp.Count | exp.Sum | exp.Avg | exp.Min | exp.Max)

    def _aggregate_in_where(self, node: Any) -> Exception:
        return self.fail(f"aggregate {self.aggregate(node).name.upper()} is not allowed in WHERE (it filters rows "
                         f"before grouping; HAVING is not supported)", node, node.key)

    def aggregate(self, node: Any) -> Aggregate:
        exp = self.exp
        func = type(node).__name__.lower()
        assert func in AGGREGATES
        for key, value in node.args.items():
            if value and key not in ("this", "big_int"):
                raise self.fail(f"{func.upper()} takes one column", node, func)
        arg = node.this
        pos = self.pos(node, func)
        if isinstance(arg, exp.Star):
            if func != "count":
                raise self.fail(f"{func.upper()}(*) is not supported: name a column", node, func)
            return Aggregate(func, None, pos)
        if isinstance(arg, exp.Distinct):
            raise self.fail(f"{func.upper()}(DISTINCT …) is not supported", node, func)
        if isinstance(arg, exp.Column | exp.Dot):
            return Aggregate(func, self.field(arg), pos)
        if arg is None:
            raise self.fail(f"{func.upper()}() needs a column", node, func)
        raise self.unsupported(arg, f" inside {func.upper()}() (a column is expected)")

    def _output_ref(self, node: Any, columns: tuple[Column | Star, ...], clause: str) -> int | None:
        """An output column named by 1-based position or by its output name (alias)."""
        exp = self.exp
        if isinstance(node, exp.Literal) and not node.is_string:
            try:
                n = int(str(node.this))
            except ValueError:
                raise self.fail(f"{clause} position must be an integer", node) from None
            if any(isinstance(c, Star) for c in columns):
                raise self.fail(f"{clause} by position cannot be used with SELECT *", node)
            if not 1 <= n <= len(columns):
                raise self.fail(f"{clause} position {n} is out of range (the SELECT list has {len(columns)} "
                                f"columns)", node)
            return n - 1
        if isinstance(node, exp.Column) and not node.args.get("table") and isinstance(node.this, exp.Identifier):
            name = node.this.this
            for i, col in enumerate(columns):
                if isinstance(col, Column) and col.name == name and not (
                        isinstance(col.expr, Field) and col.expr.name == name):
                    return i  # an alias (a plain column of the same name is the field itself)
        return None

    def _group(self, group: Any, columns: tuple[Column | Star, ...]) -> tuple[Field, ...]:
        if group is None:
            return ()
        exp = self.exp
        for key, value in group.args.items():
            if value and key != "expressions":
                raise self.fail(f"GROUP BY {key.upper()} is not supported", group, "group")
        out: list[Field] = []
        for node in group.expressions:
            ref = self._output_ref(node, columns, "GROUP BY")
            if ref is not None:
                col = columns[ref]
                assert isinstance(col, Column)
                if not isinstance(col.expr, Field):
                    raise self.fail(f"GROUP BY cannot use the aggregate {col.name!r}", node)
                out.append(col.expr)
            elif isinstance(node, exp.Column | exp.Dot):
                out.append(self.field(node))
            else:
                raise self.unsupported(node, " in GROUP BY (columns only)")
        return tuple(out)

    def _order(self, order: Any, columns: tuple[Column | Star, ...]) -> tuple[OrderKey, ...]:
        if order is None:
            return ()
        exp = self.exp
        keys: list[OrderKey] = []
        for node in order.expressions:
            if not isinstance(node, exp.Ordered):
                raise self.unsupported(node, " in ORDER BY")
            for key, value in node.args.items():
                if value and key not in ("this", "desc", "nulls_first"):
                    raise self.fail(f"ORDER BY … {key.upper()} is not supported", node)
            target = node.this
            ref = self._output_ref(target, columns, "ORDER BY")
            expr: Field | Aggregate | int
            if ref is not None:
                expr = ref
            elif isinstance(target, exp.Column | exp.Dot):
                expr = self.field(target)
            elif self._is_aggregate(target):
                expr = self.aggregate(target)
            else:
                raise self.unsupported(target, " in ORDER BY (columns, aggregates or output positions)")
            keys.append(OrderKey(expr, bool(node.args.get("desc")), bool(node.args.get("nulls_first")),
                                 self.pos(target)))
        return tuple(keys)

    def _count(self, node: Any, clause: str) -> Const | Param:
        exp = self.exp
        for key, value in node.args.items():
            if value and key != "expression":
                raise self.fail(f"{clause} {key.upper()} is not supported", node, clause.lower())
        if not isinstance(node.expression, exp.Literal | exp.Neg | exp.Placeholder | exp.Paren):
            found = self.text.lower().rfind(clause.lower())
            shown = node.expression.sql(dialect="duckdb")
            hint = ": leave it out" if shown.upper() == "ALL" else ""
            raise error(f"{clause} must be a non-negative integer, got {shown}{hint}", self.text, found)
        value = self.operand(node.expression)
        if isinstance(value, Param):
            return value
        if not isinstance(value, Const) or isinstance(value.value, bool) or not isinstance(value.value, int):
            raise error(f"{clause} must be a non-negative integer, got {node.expression.sql()}", self.text,
                        value.pos if isinstance(value, Const) else self.pos(node.expression))
        if value.value < 0:
            raise error(f"{clause} must be a non-negative integer, got {value.value}", self.text, value.pos)
        return value

    def _limit_offset(self, limit: Any, offset: Any) -> tuple[Const | Param | None, Const | Param | None]:
        # Parameters are numbered in text order: OFFSET ? LIMIT ? binds the OFFSET first.
        order: list[tuple[str, Any]] = [("LIMIT", limit), ("OFFSET", offset)]
        low = self.text.lower()
        if limit is not None and offset is not None and low.rfind("offset") < low.rfind("limit"):
            order.reverse()
        out = {clause: self._count(node, clause) if node is not None else None for clause, node in order}
        return out["LIMIT"], out["OFFSET"]

    def _check_aggregation(self, plan: SelectPlan) -> None:
        if not plan.aggregated:
            return
        group = {f.path for f in plan.group_by if isinstance(f, Field)}
        for col in plan.columns:
            if isinstance(col, Star):
                raise error("SELECT * cannot be combined with aggregates or GROUP BY", self.text, col.pos)
            if isinstance(col.expr, Field) and col.expr.path not in group:
                raise error(f"column {col.expr.name!r} must appear in GROUP BY or be inside an aggregate",
                            self.text, col.pos)
        for key in plan.order_by:
            if isinstance(key.expr, Field) and key.expr.path not in group:
                raise error(f"ORDER BY {key.expr.name!r} must be a GROUP BY column, an aggregate or an output "
                            f"column of this aggregate query", self.text, key.pos)


# -- entry points ------------------------------------------------------------------------------------
def _parse_one(parsed_text: str, user_text: str, shift: int) -> Any:
    sg = _sqlglot()
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = [s for s in sg.parse(parsed_text, read="duckdb") if s is not None]
    except ParseError as exc:
        info = exc.errors[0] if exc.errors else {}
        desc = _TOKEN_REPR.sub(lambda m: repr(m.group(1)), str(info.get("description") or exc).split("\n")[0])
        pos = -1
        if info.get("line") is not None and info.get("col") is not None:
            # sqlglot reports the column of the last character of the offending token
            highlight = info.get("highlight") or ""
            pos = offset_of(parsed_text, info["line"], info["col"]) - max(len(highlight) - 1, 0) + shift
        raise error(parse_error_message(desc, user_text, pos), user_text, pos) from None
    except TokenError as exc:
        open_quote = lexical.first_unterminated(parsed_text)
        if open_quote >= 0:
            raise error("syntax error: unterminated quoted string", user_text, open_quote + shift) from None
        raise error(f"syntax error: {exc}", user_text) from None
    except RecursionError:
        raise error("the query nests too deeply") from None
    if not statements:
        raise error("empty query: expected SELECT …, LOOKUP, SEARCH or TRAVERSE")
    if len(statements) > 1:
        raise error("only one statement per query", user_text, lexical.statement_end(parsed_text) + shift)
    return statements[0]


def parse_select(text: str, counter: Counter, start: int = 0) -> SelectPlan:
    """Parse a SELECT statement that starts at offset ``start`` of ``text``."""
    body, renamed = lexical.rename_params(" " * start + text[start:])
    counter.renamed.update(renamed)
    compacted, lists = lexical.compact(body)
    syntax.check_select(compacted, text, start)
    tree = _parse_one(compacted, text, 0)
    try:
        return Converter(text, compacted, lists, counter).select(tree)
    except RecursionError:
        raise error("the query nests too deeply") from None


def parse_where(text: str, start: int, end: int, counter: Counter, table: str | None = None) -> Expr:
    """Parse the condition ``text[start:end]`` (a WHERE clause without the keyword)."""
    fragment = text[start:end]
    if not fragment.strip():
        raise error("WHERE needs a condition", text, start)
    fragment, renamed = lexical.rename_params(fragment)
    counter.renamed.update(renamed)
    compacted, lists = lexical.compact(fragment)
    syntax.check_condition(" " * start + compacted, text, start, end)
    shift = start - len(WHERE_PREFIX)
    tree = _parse_one(WHERE_PREFIX + compacted, text, shift)
    conv = Converter(text, WHERE_PREFIX + compacted, lists, counter, shift)
    exp = conv.exp
    if not isinstance(tree, exp.Select) or not tree.args.get("where"):
        raise error("expected a condition", text, start)
    extra = [k for k, v in tree.args.items() if v and k not in ("expressions", "from", "from_", "where")]
    if extra:
        label = {"order": "ORDER BY", "group": "GROUP BY", "limit": "LIMIT", "offset": "OFFSET"}.get(
            extra[0], _CLAUSE_NAMES.get(extra[0], extra[0].upper()))
        target = tree.args[extra[0]]
        raise error(f"{label} is not allowed in a WHERE condition", text,
                    conv.pos(target[0] if isinstance(target, list) else target, label.split()[0].lower()))
    conv.table = table or "__rem_where__"
    try:
        return conv.condition(tree.args["where"].this)
    except RecursionError:
        raise error("the condition nests too deeply") from None

