"""sqlite-vec (``vec0`` virtual table, brute force: it has no ANN index) through apsw, since this Python's
``sqlite3`` cannot load extensions. ``category`` and ``year`` are vec0 metadata columns (filterable inside
the KNN query), the text an auxiliary column; WAL journal, ``synchronous=NORMAL``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import System

FILE = "vec.db"


class SqliteVecSystem(System):
    name = "sqlite-vec"
    index_note = "no ANN index (exact scan of vec0 chunks), cosine"

    def _connect(self) -> Any:
        import apsw
        import sqlite_vec

        self.path.mkdir(parents=True, exist_ok=True)
        db = apsw.Connection(str(self.path / FILE))
        db.enable_load_extension(True)
        db.load_extension(sqlite_vec.loadable_path())
        db.execute("pragma journal_mode=wal")
        db.execute("pragma synchronous=normal")
        return db

    def create_and_load(self, rows: Sequence[dict[str, Any]], vectors: np.ndarray) -> None:
        self.db = self._connect()
        self.db.execute(f"create virtual table docs using vec0(id integer primary key, embedding float[{self.dim}] "
                        "distance_metric=cosine, category text, year integer, +doc_id text, +body text)")
        with self.db:  # one transaction
            self.db.executemany(
                "insert into docs(id, embedding, category, year, doc_id, body) values (?, ?, ?, ?, ?, ?)",
                ((i, vectors[i].tobytes(), r["category"], r["year"], r["id"], r["body"]) for i, r in enumerate(rows)))

    def open(self) -> None:
        self.db = self._connect()

    def search(self, vector: np.ndarray, k: int = 10, category: str | None = None) -> list[str]:
        blob = np.asarray(vector, dtype=np.float32).tobytes()
        if category is None:
            cur = self.db.execute("select doc_id from docs where embedding match ? and k = ? order by distance",
                                  (blob, k))
        else:
            cur = self.db.execute("select doc_id from docs where embedding match ? and k = ? and category = ? "
                                  "order by distance", (blob, k, category))
        return [r[0] for r in cur]

    def get(self, doc_id: str) -> dict[str, Any]:
        rowid = int(doc_id.rsplit("-", 1)[1])
        r = self.db.execute("select doc_id, body, category, year from docs where id = ?", (rowid,)).fetchone()
        return {"id": r[0], "body": r[1], "category": r[2], "year": r[3]}

    def insert(self, row: dict[str, Any], vector: np.ndarray) -> None:
        self.db.execute("insert into docs(id, embedding, category, year, doc_id, body) values (?, ?, ?, ?, ?, ?)",
                        (int(row["id"].rsplit("-", 1)[1]), np.asarray(vector, dtype=np.float32).tobytes(),
                         row["category"], row["year"], row["id"], row["body"]))

    def close(self) -> None:
        self.db.close()


System = SqliteVecSystem
