"""Consistent copies of a database directory (SPEC §9, §13): backups, and the snapshot a replica that fell
behind retention bootstraps from.

A snapshot is a directory holding a RocksDB copy of the store at one commit sequence ``S``, the vector index
files that can serve it, and a marker file (:data:`MARKER`, written last) naming ``S``. Opening it gives
exactly the data up to ``S``:

- the store: a RocksDB checkpoint of a read-write store (SST files hard-linked, its unflushed log copied:
  writers go on meanwhile), or a copy of every column family as a read-only instance sees it (a checkpoint
  of a read-only instance would leave out the writer's unflushed commits);
- the index files are taken BEFORE the store copy, so each set covers a sequence ``s <= S`` and the copy
  catches it up from its own WAL records on open (or rebuilds it when they are gone). Each set is checked
  against the manifest it was copied with (a save racing the copy is caught there), its manifest is
  recorded in the copy's ``meta`` family (index/manifest.py), and a set that covers more than ``S`` or does
  not match is left out: the copy then rebuilds that index from its stored vectors. A search on the copy is
  therefore never answered from an index that disagrees with its data.

Nothing that says "held" is copied: not the HOLDER file, RocksDB's LOCK or its info logs. The writer is never
blocked by the commit lock: the only pause writers can see is RocksDB's memtable switch when the
checkpoint flushes (measured in bench/bench_replication_backup.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson

from ..crypto.unlock import is_encrypted
from ..errors import NotFoundError, StorageError
from ..index.manifest import SUFFIX as MANIFEST_SUFFIX
from ..index.manifest import Manifests, digest
from ..index.vectors import VectorIndexes
from ..storage.store import HOLDER_FILE, Store

log = logging.getLogger("rem_db.replication")

#: the file that makes a directory a REM snapshot (written last: a directory without it is incomplete)
MARKER = "REM_SNAPSHOT.json"
FORMAT = "rem-db snapshot"
VERSION = 1
INDEX_DIR = "indexes"
#: files of a database directory that belong to the process holding it, never to a copy
_LOCAL_FILES = ("LOCK", HOLDER_FILE)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SnapshotInfo:
    """What a snapshot's marker records."""

    path: Path
    sequence: int
    created_at: str
    encrypted: bool
    method: str  # "checkpoint" (read-write source) or "copy" (read-only source)
    indexes: tuple[str, ...]  # index file sets kept, relative to the snapshot (``indexes/<tenant>/<name>``)


def make_snapshot(store: Store, indexes: VectorIndexes | None, dest: str | os.PathLike[str],
                  progress: Progress | None = None) -> int:
    """Write a consistent copy of ``store``'s directory to ``dest`` (which must not exist; its parent must)
    and return the commit sequence it holds.

    ``indexes`` (the open tenant's vector indexes, or None) is used on a read-write store to save the
    indexes that changed first, so the copy opens query-ready, and to hold each index's lock while its files
    are linked. Works while writes go on. The copy appears at ``dest`` whole or not at all.
    ``progress(step)`` is called as each step starts."""
    target = Path(dest).expanduser().absolute()
    _check_target(store, target)
    say = progress or (lambda step: None)
    tag = f"{os.getpid()}-{threading.get_ident()}"
    staging = target.with_name(f".{target.name}.partial-{tag}")
    staged_indexes = target.with_name(f".{target.name}.indexes-{tag}")
    try:
        if indexes is not None and not store.read_only:
            say("saving vector indexes")
            try:
                indexes.save_all()
            except StorageError as exc:  # the copy catches up or rebuilds what was not saved
                log.warning("backup: %s", exc)
        say("linking vector index files")
        taken = _take_index_files(store.path, staged_indexes, indexes if not store.read_only else None)
        say("copying the store" if store.read_only else "checkpointing the store")
        store.checkpoint(staging)
        if staged_indexes.exists():
            staged_indexes.rename(staging / INDEX_DIR)
        say("checking vector index files")
        sequence, kept, encrypted = _finish_copy(staging, store, taken)
        _write_marker(staging, sequence, encrypted, "copy" if store.read_only else "checkpoint", kept, store.path)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(staged_indexes, ignore_errors=True)
        raise
    return sequence


def restore_snapshot(src: str | os.PathLike[str], target: str | os.PathLike[str], *, move: bool = False) -> int:
    """Make ``target`` (a new or empty directory) a database from the snapshot or backup ``src``; returns
    the commit sequence it holds. A non-empty ``target`` is refused before anything is written.

    The files are copied (``move=True``: moved, consuming ``src``, for a snapshot just received). The result
    appears at ``target`` whole or not at all; the marker is not copied (``target`` is a database now)."""
    info = read_snapshot(src)
    dest = Path(target).expanduser().absolute()
    if dest.exists():
        if not dest.is_dir():
            raise StorageError(f"restore target {dest} is a file, not a directory")
        entries = sorted(p.name for p in dest.iterdir())
        if entries:
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise StorageError(f"restore target {dest} is not empty ({len(entries)} entries: {shown}); restore "
                               f"into a new or empty directory")
    elif not dest.parent.is_dir():
        raise NotFoundError(f"cannot restore to {dest}: directory {dest.parent} does not exist")
    staging = dest.with_name(f".{dest.name}.restoring-{os.getpid()}-{threading.get_ident()}")
    try:
        staging.mkdir()
        for path in _files(info.path):
            rel = path.relative_to(info.path)
            if rel.as_posix() == MARKER:
                continue
            out = staging / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            if move:
                os.replace(path, out)
            else:
                shutil.copy2(path, out)
        restored = Store(staging, read_only=True)
        try:
            position = restored.wal_seq()
        finally:
            restored.close()
        if position != info.sequence:
            raise StorageError(f"backup {info.path} is damaged: its store holds commit {position}, its marker "
                               f"says {info.sequence}")
        with contextlib.suppress(FileNotFoundError):
            dest.rmdir()  # the empty directory it replaces
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if move:
        shutil.rmtree(info.path, ignore_errors=True)
    return info.sequence


def read_snapshot(src: str | os.PathLike[str]) -> SnapshotInfo:
    """The marker of the snapshot (or backup) directory ``src``; :class:`NotFoundError` when there is no
    such directory, :class:`StorageError` when it is not a complete REM snapshot."""
    path = Path(src).expanduser().absolute()
    if not path.exists():
        raise NotFoundError(f"no backup at {path}")
    if not path.is_dir():
        raise StorageError(f"{path} is a file, not a REM backup directory")
    marker = path / MARKER
    if not marker.is_file():
        raise StorageError(f"{path} is not a REM backup (no {MARKER}: not made by `rem backup`, or unfinished)")
    try:
        raw: dict[str, Any] = orjson.loads(marker.read_bytes())
        if raw.get("format") != FORMAT:
            raise StorageError(f"{marker} is not a REM backup marker (format {raw.get('format')!r})")
        if int(raw["version"]) > VERSION:
            raise StorageError(f"{path} was made by a newer REM DB (backup format {raw['version']}, this version "
                               f"reads {VERSION})")
        info = SnapshotInfo(path, int(raw["sequence"]), str(raw["created_at"]), bool(raw["encrypted"]),
                            str(raw["method"]), tuple(raw.get("indexes", ())))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, OSError) as exc:
        raise StorageError(f"the backup marker {marker} is unreadable ({exc})") from None
    if not (path / "CURRENT").is_file():
        raise StorageError(f"backup {path} is incomplete: its RocksDB files are missing")
    return info


def snapshot_bytes(path: str | os.PathLike[str]) -> int:
    """Bytes of every file under ``path``."""
    return sum(p.stat().st_size for p in _files(Path(path)))


# -- the steps ---------------------------------------------------------------------------------------------
def _check_target(store: Store, target: Path) -> None:
    if target.exists():
        raise StorageError(f"backup target {target} already exists; give a new directory")
    if not target.parent.is_dir():
        raise NotFoundError(f"cannot write a backup to {target}: directory {target.parent} does not exist")
    resolved = target.parent.resolve() / target.name
    if resolved == store.path or store.path in resolved.parents:
        raise StorageError(f"backup target {target} is inside the database directory {store.path}")


@dataclass(frozen=True)
class _TakenIndex:
    """One index file set copied beside the checkpoint, with the manifest it was copied with."""

    rel: Path  # ``<tenant dir>/<base name>``, under indexes/
    manifest: bytes
    suffixes: tuple[str, ...]


def _take_index_files(root: Path, out: Path, indexes: VectorIndexes | None) -> list[_TakenIndex]:
    """Hard-link (or copy, across file systems) every saved index file set under ``root/indexes`` to ``out``.

    Saves replace files (write then rename), never rewrite them, so a link keeps the bytes it was made
    with; holding the handle's lock keeps a save of this process from landing between the manifest and its
    files. A save of another process (this store read-only) can: :func:`_finish_copy` checks each set."""
    source = root / INDEX_DIR
    if not source.is_dir():
        return []
    locks = {h.base: h.lock for h in list(indexes.handles.values())} if indexes is not None else {}
    taken: list[_TakenIndex] = []
    for beside in sorted(source.glob(f"*/*{MANIFEST_SUFFIX}")):
        base = beside.with_name(beside.name[: -len(MANIFEST_SUFFIX)])
        lock = locks.get(base)
        with lock if lock is not None else contextlib.nullcontext():
            try:
                raw = beside.read_bytes()
                suffixes = tuple(orjson.loads(raw)["files"])
                rel = base.relative_to(source)
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                for suffix in suffixes:
                    _link(base.with_name(base.name + suffix), out / rel.parent / (base.name + suffix))
            except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
                log.warning("backup: vector index %s left out (%s); the copy rebuilds it", base.name, exc)
                continue
        taken.append(_TakenIndex(rel, raw, suffixes))
    return taken


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        shutil.copy2(src, dst)  # another file system, or links not allowed


def _finish_copy(staging: Path, source: Store, taken: list[_TakenIndex]) -> tuple[int, list[str], bool]:
    """Open the copy, read its sequence, record the manifests of the index sets that can serve it (removing
    the others) and drop the files that belong to a holder. Returns (sequence, index sets kept, encrypted)."""
    copy = Store(staging, settings=source.settings)
    kept: list[str] = []
    try:
        sequence = copy.wal_seq()
        encrypted = is_encrypted(copy)
        for index in taken:
            base = staging / INDEX_DIR / index.rel
            problem = _index_problem(base, index, sequence)
            if problem is not None:
                log.info("backup: vector index %s left out (%s); the copy rebuilds it", index.rel, problem)
                for suffix in (*index.suffixes, MANIFEST_SUFFIX):
                    base.with_name(base.name + suffix).unlink(missing_ok=True)
                continue
            manifest = orjson.loads(index.manifest)
            tenant = unquote(index.rel.parent.name)
            paths = [base.with_name(base.name + suffix) for suffix in index.suffixes]
            Manifests(copy, tenant).write(base, paths, int(manifest["seq"]))
            kept.append((Path(INDEX_DIR) / index.rel).as_posix())
    finally:
        copy.close()
    for name in _LOCAL_FILES:
        (staging / name).unlink(missing_ok=True)
    for info_log in staging.glob("LOG*"):  # RocksDB's info logs describe the source's history, not the copy's
        info_log.unlink(missing_ok=True)
    return sequence, kept, encrypted


def _index_problem(base: Path, index: _TakenIndex, sequence: int) -> str | None:
    """Why the copied index set at ``base`` cannot serve a copy at ``sequence`` (None: it can)."""
    try:
        manifest = orjson.loads(index.manifest)
        covered = int(manifest["seq"])
        files = manifest["files"]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return "unreadable manifest"
    if covered > sequence:
        return f"it covers commit {covered}, the copy ends at {sequence}"
    for suffix in index.suffixes:
        path = base.with_name(base.name + suffix)
        size, expected = files[suffix]
        try:
            if path.stat().st_size != size or digest(path) != expected:
                return f"{path.name} was replaced while it was copied"
        except OSError as exc:
            return f"{path.name}: {exc.strerror or exc}"
    return None


def _write_marker(staging: Path, sequence: int, encrypted: bool, method: str, kept: list[str], source: Path) -> None:
    marker = {"format": FORMAT, "version": VERSION, "sequence": sequence, "encrypted": encrypted, "method": method,
              "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "source": str(source),
              "indexes": kept, "created_unix": time.time()}
    tmp = staging / (MARKER + ".tmp")
    tmp.write_bytes(orjson.dumps(marker, option=orjson.OPT_INDENT_2))
    os.replace(tmp, staging / MARKER)


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


# -- backup and restore (Database.backup, Database.restore, `rem backup`, `rem restore`) ---------------------
def backup(store: Store, indexes: VectorIndexes | None, dest: str | os.PathLike[str],
           progress: Progress | None = None) -> dict[str, Any]:
    """:func:`make_snapshot` timed: ``{"path", "sequence", "bytes", "seconds", "encrypted", "indexes"}``."""
    start = time.perf_counter()
    sequence = make_snapshot(store, indexes, dest, progress)
    info = read_snapshot(dest)
    return {"path": str(info.path), "sequence": sequence, "bytes": snapshot_bytes(info.path),
            "seconds": round(time.perf_counter() - start, 3), "encrypted": info.encrypted,
            "indexes": len(info.indexes)}


def restore(src: str | os.PathLike[str], path: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`restore_snapshot` timed: ``{"path", "source", "sequence", "bytes", "seconds", "encrypted"}``."""
    start = time.perf_counter()
    info = read_snapshot(src)
    sequence = restore_snapshot(src, path)
    target = Path(path).expanduser().absolute()
    return {"path": str(target), "source": str(info.path), "sequence": sequence, "bytes": snapshot_bytes(target),
            "seconds": round(time.perf_counter() - start, 3), "encrypted": info.encrypted}
