"""Which files an ingest covers: one file, or the files of a directory (its subdirectories with
``recursive``), filtered by a glob pattern, in a stable (sorted) order. Hidden files and directories (names
starting with ``.``) and the database's own directory are left out of directory walks."""

from __future__ import annotations

import os
from fnmatch import fnmatch
from pathlib import Path

from ..errors import IngestError


def collect(path: str | os.PathLike[str], recursive: bool = False, glob: str | None = None,
            exclude: Path | None = None) -> tuple[list[Path], bool, list[tuple[str, str]]]:
    """``(files, is_directory, problems)``: the files to ingest (absolute, sorted) and the directories that
    could not be listed, with the reason."""
    root = Path(path).expanduser()
    if not root.exists():
        raise IngestError(f"{root}: no such file or directory", path=str(root))
    root = root.resolve()
    if root.is_file():
        return [root], False, []
    if not root.is_dir():
        raise IngestError(f"{root}: not a regular file or directory", path=str(root))
    skip = exclude.resolve() if exclude is not None else None
    found: list[Path] = []
    problems: list[tuple[str, str]] = []

    def unreadable(error: OSError) -> None:
        problems.append((str(error.filename), f"cannot list directory: {error.strerror}"))

    for current, dirs, names in os.walk(root, onerror=unreadable):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (skip is None or here / d != skip)) \
            if recursive else []
        for name in sorted(names):
            if name.startswith("."):
                continue
            file = here / name
            relative = file.relative_to(root).as_posix()
            if glob and not (fnmatch(name, glob) or fnmatch(relative, glob)):
                continue
            if file.is_file():
                found.append(file)
    return found, True, problems
