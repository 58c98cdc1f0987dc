"""User-facing errors of the `rem` CLI and the JSON helpers that raise them.

Library errors (:class:`rem_db.DatabaseError`) and :class:`CliError` both end as ``error: <message>`` on
stderr with exit code 1 (see :func:`rem_db.cli.main.run`); usage errors stay with typer (exit code 2).
"""

from __future__ import annotations

import sys
from typing import Any

import orjson

from ..entities.values import loads_exact


class CliError(Exception):
    """A user error found by the CLI itself (malformed JSON, empty or binary stdin, a missing ``--yes``)."""


def parse_json(text: str | bytes, where: str) -> Any:
    """Parse JSON text; a malformed document raises :class:`CliError` naming line and column."""
    try:
        return loads_exact(text)  # integers beyond 64 bits stay exact (refused by name, not rounded)
    except orjson.JSONDecodeError as exc:
        raise CliError(f"invalid JSON in {where}: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def check_text(raw: bytes, where: str) -> str:
    """Decode UTF-8 input, refusing binary data (NUL bytes or invalid UTF-8) with a clear message."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise CliError(f"{where} is binary data (NUL byte at offset {nul}), not UTF-8 JSON text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{where} is not UTF-8 text (invalid byte at offset {exc.start}); "
                       f"expected UTF-8 JSON") from None


def read_stdin_json() -> Any:
    """One JSON document (object or array) from stdin, for ``JSON`` arguments given as ``-``."""
    raw = sys.stdin.buffer.read()
    text = check_text(raw, "stdin").lstrip("\ufeff")
    if not text.strip():
        raise CliError("stdin is empty: expected a JSON object (or an array of objects)")
    return parse_json(text, "stdin")


def json_argument(value: str) -> Any:
    """A ``JSON`` command argument: inline JSON text, or ``-`` to read it from stdin."""
    if value == "-":
        return read_stdin_json()
    if not value.strip():
        raise CliError("the JSON argument is empty: expected a JSON object (or an array of objects)")
    return parse_json(value, "the JSON argument")


def report(message: str) -> None:
    """Print ``error: message`` on stderr."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
