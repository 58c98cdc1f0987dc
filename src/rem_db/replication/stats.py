"""What ``Database.stats()`` and ``rem stats [TABLE]`` report (SPEC §13): rows per table, disk per area, vector
index sizes, the WAL's range and size, embedding providers, encryption and the replication role.

Disk figures come from RocksDB's properties per column family (SST files plus memtables: what is written
but not flushed yet lives in RocksDB's log on disk), so they are cheap, database-wide (every tenant) and
approximate; vector index file sizes are the files' own sizes. Row and vector counts are exact (key scans
of the table's ranges).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..index.manifest import SUFFIX as MANIFEST_SUFFIX
from ..index.vector_store import VectorStore
from ..index.vectors import VectorIndexes
from ..storage.store import REPLICA_KEY, Store
from .retention import first_retained_seq

#: ``meta`` local key naming a primary's replication role, when replication was set up on it
ROLE_KEY = b"replication.role"
#: how column families add up to the areas reported under ``disk``
AREAS: dict[str, tuple[str, ...]] = {
    "entities": ("entities",),
    "indexes": ("key_index", "field_index"),
    "vectors": ("embeddings",),
    "fulltext": ("fulltext",),
    "graph": ("edges", "reverse_edges", "adjacency"),
    "wal": ("wal",),
}
#: seconds a stats call waits for a vector index still loading before reporting it as loading
LOAD_WAIT = 10.0


@dataclass(frozen=True)
class StatsSources:
    """What the statistics are read from (built by the core)."""

    path: Path
    tenant: str
    read_only: bool
    encrypted: bool
    settings: Settings
    store: Store
    tables: list[str]  # every table, in registration order
    count_rows: Callable[[str], int]  # live rows of a table
    recorded: Callable[[str], dict[str, Any] | None]  # the provider a table's vectors were made with
    vectors: VectorStore
    indexes: VectorIndexes


def collect_stats(src: StatsSources, table: str | None = None) -> dict[str, Any]:
    """The statistics of the database (of one table's rows and indexes with ``table``; the disk, WAL and
    replication figures are always database-wide). Keys: ``path``, ``tenant``, ``read_only``,
    ``encrypted``, ``tables`` (name -> rows), ``wal_seq``, ``details`` (name -> rows, embedding, vector
    index), ``disk`` (area -> bytes), ``wal``, ``replication``, and ``table`` when one was asked for."""
    names = [table] if table is not None else src.tables
    details = {name: _table_details(src, name) for name in names}
    store = src.store
    out: dict[str, Any] = {
        "path": str(src.path),
        "tenant": src.tenant,
        "read_only": src.read_only,
        "encrypted": src.encrypted,
        "tables": {name: d["rows"] for name, d in details.items()},
        "wal_seq": store.wal_seq(),
    }
    if table is not None:
        out["table"] = table
    out["details"] = details
    out["disk"] = _disk(store, src.indexes.root.parent)
    out["wal"] = {
        "enabled": store.wal_enabled,
        "sequence": store.wal_seq(),
        "first_retained_seq": first_retained_seq(store),
        "records": max(0, store.wal_seq() - first_retained_seq(store) + 1),
        "bytes": store.wal_size_bytes(),
        "retention_hours": src.settings.wal_retention_hours,
        "max_size_mb": src.settings.wal_max_size_mb,
    }
    out["embedding"] = {"default_provider": src.settings.default_embedding,
                        "alt_provider": src.settings.alt_embedding}
    out["replication"] = replication_role(store)
    return out


def replication_role(store: Store) -> dict[str, Any]:
    """``{"role": "replica", "follows": ...}`` for a replica, the role recorded by replication on a primary,
    else ``{"role": "none"}`` (replication never set up)."""
    replica = store.get_local("meta", REPLICA_KEY)
    if replica is not None:
        return {"role": "replica", "follows": replica.decode("utf-8", "replace")}
    role = store.get_local("meta", ROLE_KEY)
    return {"role": role.decode("utf-8", "replace") if role else "none"}


def _table_details(src: StatsSources, table: str) -> dict[str, Any]:
    recorded = src.recorded(table)
    detail: dict[str, Any] = {"rows": src.count_rows(table), "embedding": None, "vector_index": None}
    if not recorded:
        return detail
    spec, dims = str(recorded["provider"]), int(recorded["dimensions"])
    detail["embedding"] = {"provider": spec, "dimensions": dims, "vectors": src.vectors.count(table, spec)}
    detail["vector_index"] = _index(src.indexes, table, spec, dims)
    return detail


def _index(indexes: VectorIndexes, table: str, spec: str, dims: int) -> dict[str, Any]:
    """The index's backend kind, live elements, the sequence it covers and its files' bytes on disk."""
    base = indexes.base(table, spec)
    files = [*indexes.backend.paths(base), base.with_name(base.name + MANIFEST_SUFFIX)]
    info: dict[str, Any] = {"kind": "loading", "elements": None, "covers_seq": None,
                            "file_bytes": sum(_size(p) for p in files)}
    handle = indexes.handle(table, spec, dims)
    if not handle.ready.wait(LOAD_WAIT) or handle.error is not None:
        info["kind"] = "loading" if handle.error is None else f"unavailable ({handle.error})"
        return info
    with handle.lock:
        index = handle.index
        if index is not None:
            info["kind"] = ("exact (rebuilding)" if handle.replay is not None
                            else "saved file (loading)" if handle.staged else indexes.backend.name)
            info["elements"] = len(index)
            info["covers_seq"] = index.seq
    return info


def _disk(store: Store, indexes_root: Path) -> dict[str, int]:
    """Bytes per area; ``vectors`` holds the embeddings family plus the vector index files (also shown
    alone as ``vector_index_files``); ``other`` the remaining families (schemas, key material, bookkeeping)."""
    sizes = {cf: s["sst_bytes"] + s["memtable_bytes"] for cf, s in store.family_sizes().items()}
    disk = {area: sum(sizes.pop(cf, 0) for cf in families) for area, families in AREAS.items()}
    files = sum(_size(p) for p in indexes_root.rglob("*")) if indexes_root.is_dir() else 0
    disk["vector_index_files"] = files
    disk["vectors"] += files
    disk["other"] = sum(sizes.values())
    disk["total"] = sum(v for k, v in disk.items() if k != "vector_index_files")
    return disk


def _size(path: Path) -> int:
    """A file's size; 0 for a directory or a file replaced meanwhile (an index save renames its files)."""
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0
