"""Counting, aggregation, grouping and ranking words: "how many", "average price", "total stock", "per
category", "which category has the most products", "the 3 cheapest", "most recent"."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..context import FieldInfo
from .build import quoted
from .conditions import MONEY_WORDS
from .text import Token, number
from .vocab import QUANTITY_NAMES, RATING_NAMES, TableVocab

_FUNCS = {"average": "AVG", "avg": "AVG", "mean": "AVG", "total": "SUM", "sum": "SUM", "combined": "SUM",
          "overall": "SUM", "maximum": "MAX", "max": "MAX", "highest": "MAX", "largest": "MAX", "biggest": "MAX",
          "minimum": "MIN", "min": "MIN", "lowest": "MIN", "smallest": "MIN"}
#: superlatives that rank rows: word -> (field role, descending)
_RANK = {"cheapest": ("money", False), "priciest": ("money", True), "dearest": ("money", True),
         "expensive": ("money", True), "newest": ("date", True), "latest": ("date", True), "recent": ("date", True),
         "oldest": ("date", False), "earliest": ("date", False), "first": ("date", False), "last": ("date", True),
         "highest": (None, True), "lowest": (None, False), "largest": (None, True), "biggest": (None, True),
         "smallest": (None, False), "best": ("rating", True), "worst": ("rating", False), "top": (None, True),
         "most": (None, True), "least": (None, False), "fewest": (None, False)}
_ROW_WORDS = ("which", "who", "show", "list", "find", "give", "what's the", "name")
DEFAULT_ROWS = 5


@dataclass
class Aggregation:
    columns: list[str] = field(default_factory=list)
    group_by: str | None = None
    order_by: list[tuple[str, bool]] = field(default_factory=list)
    limit: int | None = None
    used: set[int] = field(default_factory=set)
    kind: str = ""  # count | aggregate | group | rank

    @property
    def found(self) -> bool:
        return bool(self.kind)


def _field_after(toks: list[Token], i: int, table: TableVocab, numeric: bool) -> tuple[FieldInfo | None, int]:
    names = {f.name for f in table.numeric()} if numeric else set(table.fields)
    for k in range(i + 1, min(len(toks), i + 4)):
        if table.names_table(toks[k]):  # "which supplier ...": the table, not its supplier_code field
            continue
        f = table.field_mentioned(toks[k])
        if f is not None and f.name in names:
            return f, k
    return None, -1


def _role_field(role: str | None, table: TableVocab, toks: list[Token]) -> FieldInfo | None:
    if role == "money":
        return table.money()
    if role == "rating":
        return table.role(RATING_NAMES)
    if role == "date":
        dates = table.dates()
        return dates[0] if dates else None
    if any(t.lower in MONEY_WORDS for t in toks):
        return table.money()
    if any(t.lower in ("stock", "units", "inventory") for t in toks):
        return table.role(QUANTITY_NAMES)
    return None


def _group_field(toks: list[Token], table: TableVocab, used: set[int]) -> tuple[FieldInfo | None, set[int]]:
    """``per X`` / ``by X`` / ``for each X`` / ``each X`` / ``which X has the most`` -> X."""
    words = [t.lower for t in toks]
    for n, w in enumerate(words):
        if n in used:
            continue
        ranked = any(x in ("most", "fewest", "least", "highest", "lowest") for x in words[n + 1:])
        if w in ("per", "by", "each", "every") or (w == "which" and n == 0 and ranked):
            f, k = _field_after(toks, n, table, numeric=False)
            if (f is not None and f.type not in ("number", "integer")) or (f is not None and f.enum):
                return f, {n, k}
            if f is not None and w != "which":
                return f, {n, k}
    return None, set()


def aggregation(toks: list[Token], table: TableVocab, used: set[int], question: str) -> Aggregation:
    agg = Aggregation()
    words = [t.lower for t in toks]
    low = question.lower()
    counting = "how many" in low or "number of" in low or "count" in words
    group, group_used = _group_field(toks, table, used)
    # an aggregate function over a field: "average price", "total stock"
    func, target, func_used = None, None, set()
    for n, w in enumerate(words):
        if n in used or w not in _FUNCS:
            continue
        f, k = _field_after(toks, n, table, numeric=True)
        if f is None and w in ("total", "sum") and table.role(("total",)) is not None:
            f, k = table.role(("total",)), n
        if f is None and w in ("average", "avg", "mean"):
            f, k = _role_field(None, table, toks) or table.money(), n
        if f is not None:
            rows_wanted = any(r in low for r in _ROW_WORDS) and w not in ("average", "avg", "mean", "total", "sum")
            if rows_wanted:  # "which product has the highest price": rows, ranked
                agg.order_by = [(quoted(f.name), _FUNCS[w] == "MAX")]
                agg.limit = 1
                agg.kind = "rank"
                agg.used = {n, k}
                return agg
            func, target, func_used = _FUNCS[w], f, {n, k}
            break
    if counting and group is None:
        idx = {n for n, w in enumerate(words) if w in ("how", "many", "number", "count")}
        agg.columns, agg.kind, agg.used = ["COUNT(*) AS count"], "count", idx
        return agg
    if func is not None and target is not None:
        expr = f"{func}({quoted(target.name)})"
        alias = f"{func.lower()}_{target.name}"
        if group is not None:
            agg.columns = [quoted(group.name), f"{expr} AS {quoted(alias)}"]
            agg.group_by, agg.order_by = group.name, [(quoted(alias), True)]
            agg.used = func_used | group_used
        else:
            agg.columns, agg.used = [f"{expr} AS {quoted(alias)}"], func_used
        agg.kind = "aggregate"
        return agg
    if group is not None:
        agg.columns = [quoted(group.name), "COUNT(*) AS count"]
        agg.group_by, agg.used, agg.kind = group.name, group_used, "group"
        most = next((n for n, w in enumerate(words) if w in ("most", "fewest", "least", "highest", "lowest")), None)
        agg.order_by = [("count", most is None or words[most] in ("most", "highest"))]
        if most is not None:
            agg.limit = 1
            agg.used |= {most}
        if counting:
            agg.used |= {n for n, w in enumerate(words) if w in ("how", "many", "number", "count")}
        return agg
    return _ranking(toks, table, used, agg)


def _ranking(toks: list[Token], table: TableVocab, used: set[int], agg: Aggregation) -> Aggregation:
    words = [t.lower for t in toks]
    for n, w in enumerate(words):
        if n in used or w not in _RANK:
            continue
        role, desc = _RANK[w]
        if w in ("most", "least") and n + 1 < len(words) and words[n + 1] in ("expensive", "recent"):
            role, desc = _RANK[words[n + 1]][0], w == "most"
            n_used = {n, n + 1}
        else:
            n_used = {n}
        f, k = _field_after(toks, n, table, numeric=False)
        if f is not None and role in (None, "date") and (f.type in ("number", "integer") or f in table.dates()):
            n_used.add(k)
        else:
            f = _role_field(role, table, toks)
        if f is None:
            continue
        limit = DEFAULT_ROWS if _plural_after(toks, n, n_used) else 1
        for k in (n - 1, n + 1):  # "3 cheapest", "top 5"
            if 0 <= k < len(toks) and number(toks[k].text) is not None and k not in used:
                value = number(toks[k].text)
                if isinstance(value, int) and 0 < value <= 1000:
                    limit, n_used = value, n_used | {k}
        agg.order_by, agg.limit, agg.used, agg.kind = [(quoted(f.name), desc)], limit, n_used, "rank"
        return agg
    return agg


def _plural_after(toks: list[Token], n: int, skip: set[int]) -> bool:
    """A plural noun right after the superlative ("the cheapest pots", not "the most kilometres": the field
    ranked by): several rows are wanted."""
    for k in range(n + 1, min(len(toks), n + 3)):
        if k in skip:
            continue
        word = toks[k].lower
        if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            return True
    return False
