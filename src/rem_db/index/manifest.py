"""Checksums of saved vector index files, verified before the ANN library reads them.

A corrupt HNSW file can crash hnswlib (a segfault) or load and answer wrongly, so no index file reaches the
backend's ``load`` unless its size and digest match the manifest written when it was saved. The manifest
(``{"seq": ..., "files": {suffix: [size, digest]}}``: the sequence the files cover and each file's digest) is
kept twice: beside the files (``NAME.manifest.json``, written after them) and in the database (``meta`` key
``index.manifest/{tenant}/{name}``, a local write outside any commit). The database copy wins: a file set from
another directory, an older save, or a half-finished one never matches it.

Digests are xxh3-128 (``xxh3:`` + hex; 16 ms for the 170 MB index of 100,000 384-d vectors where blake3 took
30–55 ms): they guard against damage, not tampering (whoever can write the files can write the manifest
beside them). Manifests written before 2026-12-07 hold blake3 hex digests: still verified with it, and
rewritten with xxh3 once their files have passed (:meth:`Manifests.upgrade`, read-write handles).
Because the check stands between ``Database()`` and the first answered search, :func:`prefetch` starts hashing
a directory's index files in a background thread (the hash releases the GIL) while the database opens;
:meth:`Manifests.verify` takes a digest computed ahead when the file's inode, size and times are unchanged.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import orjson
import xxhash
from blake3 import blake3

from ..storage.kv import KVStore

META_CF = "meta"
SUFFIX = ".manifest.json"


class ManifestMismatch(Exception):
    """The files at a base do not match their manifest (named in the message)."""


XXH3 = "xxh3:"
_Stat = tuple[int, int, int, int]
#: str(path) -> the digest being computed ahead: (the file's stat when hashing began, digest)
_ahead: dict[str, Future[tuple[_Stat, str]]] = {}
_ahead_lock = threading.Lock()


def digest(path: Path, like: str = XXH3) -> str:
    """The digest of a file, hashed through a memory map: xxh3-128 (``xxh3:`` + hex), or blake3 hex when
    ``like`` (the digest to compare with) is one of those."""
    if not like.startswith(XXH3):
        hasher = blake3(max_threads=blake3.AUTO)
        if path.stat().st_size:  # an empty file cannot be mapped
            hasher.update_mmap(str(path))
        return hasher.hexdigest()
    with open(path, "rb") as fh:
        if not os.fstat(fh.fileno()).st_size:  # an empty file cannot be mapped
            return XXH3 + xxhash.xxh3_128_hexdigest(b"")
        with mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ) as mapped:
            return XXH3 + xxhash.xxh3_128_hexdigest(mapped)


def _stat(path: Path) -> _Stat:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _digest_now(path: Path, like: str) -> str:
    """The file's digest: the one computed ahead if the file is unchanged since, else hashed now."""
    with _ahead_lock:
        ahead = _ahead.pop(str(path), None)
    if ahead is not None:
        try:
            stat, found = ahead.result()
            if stat == _stat(path) and found.startswith(XXH3) == like.startswith(XXH3):
                return found
        except Exception:  # hashing ahead failed (the file went away): hash it now, reporting what happens
            pass
    return digest(path, like)


def prefetch(directory: Path) -> None:
    """Start hashing, in a daemon thread, every file the manifests in ``directory`` list (each with its
    manifest's algorithm): :meth:`Manifests.verify` then finds them computed. Problems are left to verify."""
    try:
        manifests = sorted(directory.glob("*" + SUFFIX))
    except OSError:
        return
    jobs: list[tuple[Path, str, Future[tuple[_Stat, str]]]] = []
    for beside in manifests:
        try:
            files = orjson.loads(beside.read_bytes())["files"]
            base = beside.name[:-len(SUFFIX)]
            wanted = [(directory / (base + suffix), str(entry[1])) for suffix, entry in files.items()]
        except Exception:
            continue
        for path, like in wanted:
            future: Future[tuple[_Stat, str]] = Future()
            jobs.append((path, like, future))
    if not jobs:
        return
    with _ahead_lock:
        for path, _, future in jobs:
            _ahead[str(path)] = future

    jobs.sort(key=lambda job: -_size(job[0]))  # the largest first: it decides when the check is done
    hashing = threading.Event()

    def run() -> None:
        for path, like, future in jobs:
            try:
                stat = _stat(path)
                hashing.set()
                future.set_result((stat, digest(path, like)))
            except Exception as exc:
                future.set_exception(exc)
        hashing.set()

    threading.Thread(target=run, name="rem-index-digests", daemon=True).start()
    # wait until the thread is inside the hash (which releases the GIL): the steps of opening that follow keep
    # the GIL busy, and a thread that has not reached the hash by then often waited until they were done
    hashing.wait(0.05)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class Manifests:
    """Writes and verifies the manifests of one tenant's index files."""

    def __init__(self, store: KVStore, tenant: str) -> None:
        self.store = store
        self.tenant = tenant

    def _key(self, base: Path) -> bytes:
        return f"index.manifest/{self.tenant}/{base.name}".encode()

    @staticmethod
    def _beside(base: Path) -> Path:
        return base.with_name(base.name + SUFFIX)

    def write(self, base: Path, paths: list[Path], seq: int) -> None:
        """Record the digests of the just-saved ``paths`` (beside them, then in the database)."""
        manifest = {"seq": seq, "files": {p.name[len(base.name):]: [p.stat().st_size, digest(p)] for p in paths}}
        raw = orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS)
        tmp = base.with_name(base.name + SUFFIX + ".tmp")
        tmp.write_bytes(raw)
        os.replace(tmp, self._beside(base))
        self.store.put_local(META_CF, self._key(base), raw)

    def upgrade(self, base: Path, paths: list[Path]) -> bool:
        """Rewrite a manifest of blake3 digests (saved before 2026-12-07) with xxh3 ones, for files that just
        passed it (their next check is the faster one); True if it did."""
        try:
            manifest = orjson.loads(self._beside(base).read_bytes())
            if all(str(entry[1]).startswith(XXH3) for entry in manifest["files"].values()):
                return False
            seq = int(manifest["seq"])
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            return False
        self.write(base, paths, seq)
        return True

    def verify(self, base: Path, paths: list[Path], checksums: bool = True) -> int:
        """The sequence the files at ``base`` cover, after checking every file against the manifest (without
        ``checksums``: its size only); :class:`ManifestMismatch` names the first problem."""
        stored = self.store.get_local(META_CF, self._key(base))
        beside = self._beside(base)
        try:
            raw = beside.read_bytes()
        except OSError as exc:
            raise ManifestMismatch(f"{beside.name}: {exc.strerror or exc}") from None
        if stored is not None and stored != raw:
            raise ManifestMismatch(f"{beside.name} does not match the checksums recorded in the database")
        try:
            manifest: dict[str, Any] = orjson.loads(raw)
            seq, files = int(manifest["seq"]), manifest["files"]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise ManifestMismatch(f"{beside.name} is unreadable") from None
        for path in paths:
            expected = files.get(path.name[len(base.name):])
            if expected is None:
                raise ManifestMismatch(f"{path.name} is not in the manifest")
            try:
                size = path.stat().st_size
            except OSError as exc:
                raise ManifestMismatch(f"{path.name}: {exc.strerror or exc}") from None
            if size != expected[0]:
                raise ManifestMismatch(f"{path.name} is {size} bytes, the manifest says {expected[0]}")
            if checksums and _digest_now(path, str(expected[1])) != expected[1]:
                raise ManifestMismatch(f"{path.name} does not match its checksum")
        return seq

    def delete(self, base: Path) -> None:
        """Forget the manifest of a deleted index."""
        with contextlib.suppress(OSError):
            self._beside(base).unlink()
        if not self.store.read_only:
            self.store.put_local(META_CF, self._key(base), None)
