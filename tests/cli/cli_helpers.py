"""Helpers of the CLI tests (imported as ``cli_helpers``): run the real `rem` executable in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def rem_executable() -> str:
    # The console script of the interpreter running the tests is the one under test; PATH may hold
    # another `rem` (or none, when the venv is not activated).
    sibling = Path(sys.executable).parent / "rem"
    if sibling.exists():
        return str(sibling)
    found = shutil.which("rem")
    if found is None:
        pytest.fail("the `rem` console script is not installed (run `make test`, which installs it)")
    return found


PRODUCTS_SCHEMA: dict[str, Any] = {
    "title": "products",
    "type": "object",
    "description": "Products for sale, keyed by product code.",
    "properties": {
        "product_code": {"type": "string"},
        "name": {"type": "string"},
        "price": {"type": "number"},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "details": {"type": "object", "default": {}},
    },
    "required": ["product_code", "price"],
    "key_field": "product_code",
    "indexed_fields": ["price"],
}

#: SPEC §1 test vector: products + {"product_code": "PP-1001-SM"}.
PP_1001_ID = "3bb55c7b-41fd-5639-ad56-39ead3603d0c"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Rem:
    """Runs `rem --db-path <db> ARGS...` and returns exit code, stdout and stderr."""

    def __init__(self, exe: str, db_path: Path, env: dict[str, str], cwd: Path) -> None:
        self.exe = exe
        self.db_path = db_path
        self.env = env
        self.cwd = cwd

    @classmethod
    def in_tmp(cls, tmp_path: Path) -> Rem:
        """The real `rem` on ``tmp_path/db``, with ``P8_HOME`` under ``tmp_path``, no colours, no inherited
        ``P8_*`` settings and no fixed terminal width."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("P8_")}
        env.update({"P8_HOME": str(tmp_path / "home"), "NO_COLOR": "1"})
        env.pop("COLUMNS", None)
        return cls(rem_executable(), tmp_path / "db", env, tmp_path)

    def __call__(self, *args: str, input: str | bytes | None = None, db: bool = True,
                 env: dict[str, str] | None = None) -> Result:
        argv = [self.exe, *(["--db-path", str(self.db_path)] if db else []), *args]
        data = input.encode("utf-8") if isinstance(input, str) else input
        proc = subprocess.run(argv, input=data, stdin=None if data is not None else subprocess.DEVNULL,
                              capture_output=True, env={**self.env, **(env or {})}, cwd=self.cwd, timeout=60)
        return Result(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))

    def ok(self, *args: str, **kwargs: Any) -> Result:
        """Run and assert success (showing stderr when it fails)."""
        result = self(*args, **kwargs)
        assert result.code == 0, f"rem {' '.join(args)} failed ({result.code}): {result.err}"
        return result

    def fails(self, *args: str, code: int = 1, **kwargs: Any) -> Result:
        """Run and assert a clean user error: the exit code, a message, no traceback, nothing on stdout."""
        result = self(*args, **kwargs)
        assert result.code == code, f"rem {' '.join(args)}: expected exit {code}, got {result.code}: {result.err}"
        assert "Traceback" not in result.err
        if code == 1:
            assert result.err.startswith("error: "), result.err
            assert result.out == ""
        return result

    def each(self, *calls: tuple[str, ...], code: int = 1) -> list[Result]:
        """Run independent commands concurrently, each expected to exit with ``code`` (``-1``: not checked).

        Only reads (which open the database read-only) and commands that fail before opening it: a
        read-write open flushes and drops WAL files, which a concurrent read-only open can trip over.
        """
        from concurrent.futures import ThreadPoolExecutor

        check = {0: self.ok, -1: self}.get(code, lambda *a: self.fails(*a, code=code))
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda args: check(*args), calls))

    def count(self, table: str) -> int:
        """Rows stored in ``table``, read in-process through the library (faster than a subprocess)."""
        from rem_db import Database

        with Database(self.db_path, read_only=True) as db:
            return db.count(table)

    def on_terminal(self, *args: str, input: str) -> tuple[int, bytes]:
        """Run with stderr on a pseudo-terminal (progress bars draw there); returns (exit code, what it drew)."""
        import os
        import pty
        import time

        primary, secondary = pty.openpty()
        try:
            proc = subprocess.run([self.exe, "--db-path", str(self.db_path), *args], input=input.encode(),
                                  stdout=subprocess.PIPE, stderr=secondary, env={**self.env, "TERM": "xterm"},
                                  timeout=120)
            time.sleep(0.05)
            os.set_blocking(primary, False)
            drawn = b""
            try:
                while chunk := os.read(primary, 65536):
                    drawn += chunk
            except (BlockingIOError, OSError):
                pass
        finally:
            os.close(primary)
            os.close(secondary)
        return proc.returncode, drawn
