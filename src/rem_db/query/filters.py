"""WHERE filters for other features (vector-search pre-filtering): ``compile_filter``.

    f = compile_filter(db, "articles", "year > ? AND category = 'x'", [2000])
    f.matches(entity)   # -> bool: the WHERE is TRUE for this entity (SQL three-valued logic)
    f.candidate_ids()   # -> set of 16-byte ids from the field indexes (a superset of the matches),
                        #    or None when no index applies (check every row with matches())

``where`` may also be a :class:`BoundWhere` — the condition of a ``SEARCH … WHERE`` with its parameters
already bound — which is used as is, never re-parsed from text.
"""

from __future__ import annotations

from typing import Any

from .plan import Expr


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

    def __init__(self, db: Any, table: Any, expr: Expr | None, pred: Any, text: str) -> None:
        self._db = db
        self._table = table
        self.expr = expr
        self._pred = pred
        self.where = text
        self._candidates: Any = ...

    @property
    def table(self) -> str:
        return self._table.table

    def matches(self, entity: dict[str, Any]) -> bool:
        """Whether the condition is TRUE for ``entity`` (FALSE and UNKNOWN are both "no")."""
        return self._pred(entity) is True

    def candidate_ids(self) -> set[bytes] | None:
        """Ids the field indexes allow (a superset of the matching rows, soft-deleted ones included), or
        ``None`` when no index applies or it would not narrow the table usefully."""
        if self._candidates is ...:
            from . import access as acc
            from .planner import CAP

            tree = acc.analyze(self.expr, self._table)
            got = None
            if tree is not None:
                reader = acc.Reader(self._db, self._table)
                got = reader.collect(tree, CAP)
                if got is None:
                    from .scan import table_count

                    bigger = table_count(self._db, self.table) // 3
                    if bigger > CAP:
                        got = reader.collect(tree, bigger)
            self._candidates = None if got is None else got.ids
        return None if self._candidates is None else set(self._candidates)

    def __repr__(self) -> str:
        return f"<Filter {self.table}: {self.where or 'TRUE'}>"


def compile_filter(db: Any, table: str, where: str | None, params: Any = None) -> Filter:
    """Compile ``where`` (SQL condition text, ``?`` / ``:name`` parameters bound from ``params``) for
    ``table``. Raises :class:`~rem_db.QueryError` naming the position of a syntax error, an unknown column
    or a type mismatch."""
    engines = getattr(db, "_queries", None)
    if engines is None:
        from .engine import QueryEngine

        return QueryEngine(db).filter(table, where, params)
    return engines().filter(table, where, params)
