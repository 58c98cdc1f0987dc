"""WHERE filters for other features (vector-search pre-filtering, exports), compiled by
:meth:`QueryEngine.filter <rem_db.query.engine.QueryEngine.filter>`::

    f = queries.filter("articles", "year > ? AND category = 'x'", [2000])
    f.matches(entity)   # -> bool: the WHERE is TRUE for this entity (SQL three-valued logic)
    f.candidate_ids()   # -> set of 16-byte ids from the field indexes (a superset of the matches),
                        #    or None when no index applies (check every row with matches())
    f.exact             # -> True when those ids are exactly the matches (no row needs matches())

``where`` may also be a :class:`BoundWhere` — the condition of a ``SEARCH … WHERE`` with its parameters
already bound — which is used as is, never re-parsed from text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..entities.engine import EntityEngine
from . import access as acc
from . import planner
from .binder import TableInfo
from .plan import Expr
from .predicates import Pred


class BoundWhere(str):
    """A WHERE condition whose parameters are bound: ``str()`` of it is the condition as SQL text (values
    quoted), ``.expr`` the checked expression the query engine uses."""

    expr: Expr

    def __new__(cls, text: str, expr: Expr) -> BoundWhere:
        self = super().__new__(cls, text)
        self.expr = expr
        return self


class Filter:
    """A compiled WHERE over one table."""

    def __init__(self, entities: EntityEngine, table: TableInfo, expr: Expr | None, pred: Pred,
                 text: str) -> None:
        self._entities = entities
        self._table = table
        self.expr = expr
        self._pred = pred
        self.where = text
        self._candidates: set[bytes] | None = None
        self._exact = False
        self._tree: acc.Node | None = None
        self._analysed = False
        self._read = False  # candidate ids are read once, on first use

    @property
    def table(self) -> str:
        """The table's name."""
        return self._table.table

    @property
    def info(self) -> TableInfo:
        """The table as the query engine checked the condition against it (fields and their types)."""
        return self._table

    def matches(self, entity: dict[str, Any]) -> bool:
        """Whether the condition is TRUE for ``entity`` (FALSE and UNKNOWN are both "no")."""
        return self._pred(entity) is True

    def candidate_ids(self) -> set[bytes] | None:
        """Ids the field indexes allow (a superset of the matching rows, soft-deleted ones included), or
        ``None`` when no index applies or it would not narrow the table usefully."""
        if not self._read:
            tree = self._access_tree()
            got = None if tree is None else planner.collect(self._entities, self._table, tree, planner.CAP)
            self._candidates = None if got is None else got.ids
            self._exact = got is not None and got.complete and tree is not None and tree.exact
            self._read = True
        return None if self._candidates is None else set(self._candidates)

    @property
    def exact(self) -> bool:
        """Whether :meth:`candidate_ids` are exactly the matching rows (soft-deleted ones included): every
        part of the WHERE was answered by an index, so no row needs :meth:`matches`."""
        if not self._read:
            self.candidate_ids()
        return self._exact

    def probe(self) -> Callable[[list[bytes]], list[bool]] | None:
        """A test of which of some ids match, by point reads of the field indexes, when the WHERE is one
        equality or an AND of equalities the indexes answer exactly (``category = 'x'``); else ``None``.
        Cheaper than :meth:`candidate_ids` for checking the few hundred nearest rows of a vector search."""
        return acc.probe(self._entities.fields, self._table, self._access_tree())

    def _access_tree(self) -> acc.Node | None:
        """The index access tree of the WHERE, analysed once for :meth:`candidate_ids` and :meth:`probe`."""
        if not self._analysed:
            self._tree, self._analysed = acc.analyze(self.expr, self._table), True
        return self._tree

    def __repr__(self) -> str:
        return f"<Filter {self.table}: {self.where or 'TRUE'}>"
