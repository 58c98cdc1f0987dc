"""Which files an ingest covers: one file, or the files of a directory (its subdirectories with
``recursive``), filtered by a glob pattern, in a stable (sorted) order.

Left out of directory walks: hidden files and directories (names starting with ``.``); symbolic links that
lead outside the directory being ingested (a link to ``/etc/passwd`` must not become searchable), unless
``follow_symlinks``; and, always, the database's own directory, however it is reached. Links left out are
reported as skipped with the reason, so the user sees them.
"""

from __future__ import annotations

import os
from fnmatch import fnmatch
from pathlib import Path
from typing import NamedTuple

from ..errors import IngestError

NOT_FOLLOWED = "symbolic link to {target}, outside the folder: not followed (ingest with --follow-symlinks)"
DATABASE_DIR = "inside the database directory {db}: never ingested"


class Collected(NamedTuple):
    """What :func:`collect` found: the files to ingest (sorted), whether the path was a directory, the
    directories that could not be listed and the entries left out, each ``(path, reason)``."""

    files: list[Path]
    is_directory: bool
    problems: list[tuple[str, str]]
    skipped: list[tuple[str, str]]


def _inside(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def collect(path: str | os.PathLike[str], recursive: bool = False, glob: str | None = None,
            exclude: Path | None = None, follow_symlinks: bool = False) -> Collected:
    """The files an ingest of ``path`` covers; ``exclude`` (the database directory) is never entered."""
    given = Path(path).expanduser()
    if not given.exists():
        raise IngestError(f"{given}: no such file or directory", path=str(given))
    root = given.resolve()
    db = exclude.resolve() if exclude is not None else None
    if db is not None and _inside(root, db):
        raise IngestError(f"{given}: " + DATABASE_DIR.format(db=db), path=str(given))
    if root.is_file():
        return Collected([root], False, [], [])  # a file the user named: followed even if it is a link
    if not root.is_dir():
        raise IngestError(f"{root}: not a regular file or directory", path=str(root))
    found: list[Path] = []
    problems: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    walked = {root}  # real directories already listed: a followed link cycle ends here

    def unreadable(error: OSError) -> None:
        problems.append((str(error.filename), f"cannot list directory: {error.strerror}"))

    def left_out(entry: Path) -> str | None:
        """Why a link is not followed (None: it may be)."""
        target = entry.resolve()
        if db is not None and _inside(target, db):
            return DATABASE_DIR.format(db=db)
        if not follow_symlinks and not _inside(target, root):
            return NOT_FOLLOWED.format(target=target)
        return None

    for current, dirs, names in os.walk(root, onerror=unreadable, followlinks=follow_symlinks):
        here = Path(current)
        kept: list[str] = []
        for name in sorted(dirs) if recursive else []:
            sub = here / name
            real = sub.resolve()
            if name.startswith(".") or real in walked:
                continue
            reason = left_out(sub) if sub.is_symlink() else (
                DATABASE_DIR.format(db=db) if db is not None and _inside(real, db) else None)
            if reason is not None:
                if sub.is_symlink():
                    skipped.append((str(sub), reason))
                continue
            if sub.is_symlink() and not follow_symlinks:
                continue  # a link to a directory inside the folder: its files are reached directly
            walked.add(real)
            kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            if name.startswith("."):
                continue
            file = here / name
            relative = file.relative_to(root).as_posix()
            if glob and not (fnmatch(name, glob) or fnmatch(relative, glob)):
                continue
            if file.is_symlink() and (reason := left_out(file)) is not None:
                skipped.append((str(file), reason))
                continue
            if file.is_file():
                found.append(file)
    return Collected(found, True, problems, skipped)
