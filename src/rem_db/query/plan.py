"""The typed logical plan: what a query means, independent of how it is executed.

The parsers (:mod:`.sql` for SQL, :mod:`.rem_forms` for LOOKUP / SEARCH / TRAVERSE) produce these nodes
from text; :mod:`.binder` checks them against a table's schema and binds parameters; the planner and
executor run them. Every node keeps ``pos``, the character offset in the query text it came from, so
errors can name the line and column.

Treat every node as immutable. Condition nodes are plain slotted dataclasses rather than frozen ones only
because binding parameters builds some per execution, and frozen ones cost three times as much to create.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# -- operands ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """A column: a user or system field, or a dotted path into nested objects."""

    path: tuple[str, ...]
    pos: int = -1

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(slots=True)
class Const:
    """A literal value (string, number, boolean or NULL; a tuple for an expanded list parameter)."""

    value: Any
    pos: int = -1


@dataclass(frozen=True, slots=True)
class Param:
    """A bound parameter: ``?`` (``key`` = its 0-based position) or ``:name`` (``key`` = the name)."""

    key: int | str
    pos: int = -1

    @property
    def label(self) -> str:
        return f"?{self.key + 1}" if isinstance(self.key, int) else f":{self.key}"


Operand = Field | Const | Param

# -- predicates --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Compare:
    op: str  # = != < <= > >=
    left: Operand
    right: Operand
    pos: int = -1


@dataclass(slots=True)
class InList:
    expr: Operand
    items: tuple[Operand, ...]
    pos: int = -1


@dataclass(slots=True)
class Between:
    expr: Operand
    low: Operand
    high: Operand
    pos: int = -1


@dataclass(slots=True)
class Like:
    expr: Operand
    pattern: Operand
    insensitive: bool = False
    escape: str | None = None
    pos: int = -1


@dataclass(slots=True)
class IsNull:
    expr: Operand
    pos: int = -1


@dataclass(slots=True)
class Truth:
    """A bare boolean operand used as a condition (``WHERE active``, ``WHERE TRUE``)."""

    expr: Operand
    pos: int = -1


@dataclass(slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(slots=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(slots=True)
class Not:
    item: Expr


Expr = Compare | InList | Between | Like | IsNull | Truth | And | Or | Not

# -- SELECT ------------------------------------------------------------------------------------------

AGGREGATES = ("count", "sum", "avg", "min", "max")


@dataclass(frozen=True, slots=True)
class Aggregate:
    func: str  # one of AGGREGATES
    arg: Field | None  # None: COUNT(*)
    pos: int = -1

    @property
    def name(self) -> str:
        return f"{self.func}({self.arg.name if self.arg else '*'})"


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: a field or an aggregate, under its output name."""

    name: str
    expr: Field | Aggregate
    pos: int = -1


@dataclass(frozen=True, slots=True)
class Star:
    """``*``: every field of the entity."""

    pos: int = -1


@dataclass(frozen=True, slots=True)
class OrderKey:
    """An ORDER BY key: a field or aggregate, an output column (by alias or 1-based position)."""

    expr: Field | Aggregate | int
    descending: bool = False
    nulls_first: bool = False
    pos: int = -1


@dataclass(frozen=True, slots=True)
class SelectPlan:
    table: str
    columns: tuple[Column | Star, ...]
    where: Expr | None = None
    group_by: tuple[Field | int, ...] = ()
    order_by: tuple[OrderKey, ...] = ()
    limit: Const | Param | None = None
    offset: Const | Param | None = None
    table_pos: int = -1
    alias: str | None = None

    @property
    def aggregated(self) -> bool:
        return bool(self.group_by) or any(isinstance(c, Column) and isinstance(c.expr, Aggregate)
                                          for c in self.columns)


# -- REM forms ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LookupPlan:
    keys: tuple[Const | Param, ...]


@dataclass(frozen=True, slots=True)
class SearchPlan:
    text: Const | Param
    table: str | None = None
    table_pos: int = -1
    where: Expr | None = None
    where_text: str | None = None
    limit: Const | Param | None = None
    hybrid: bool = False  # HYBRID: BM25 fused with the vector ranking


@dataclass(frozen=True, slots=True)
class TraversePlan:
    start: Const | Param
    depth: Const | Param | None = None
    direction: str = "out"
    rel_type: Const | Param | None = None
    limit: Const | Param | None = None
    more_types: tuple[Const | Param, ...] = ()  # TYPE 'a', 'b': the types after the first


@dataclass(frozen=True, slots=True)
class ExplainPlan:
    inner: Statement


Statement = SelectPlan | LookupPlan | SearchPlan | TraversePlan | ExplainPlan


@dataclass(slots=True)
class Parsed:
    """A parsed query: its statement, its text and the parameters it uses."""

    text: str
    statement: Statement
    positional: int = 0  # how many ``?`` parameters
    named: tuple[str, ...] = ()  # names of ``:name`` parameters, in order of first use
    cache: dict[Any, Any] = field(default_factory=dict)  # per-schema bound forms (see engine)
