"""Vectors the caller computed (SPEC §6): ``insert_batch(table, rows, vectors=...)``, ``insert(..., vector=...)``
and ``search(vector=...)``. They are checked here (count, dimension, finite, not all zeros) and turned into
what the store holds: float32 rows of unit length (search is by cosine similarity, so only the direction of a
vector counts). Every error is a :class:`~rem_db.errors.ValidationError` naming the table, the row and the
expected dimension; nothing is written when one row is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import ValidationError
from ..schema.validation import RowRef


def _error(table: str, position: int | None, detail: str) -> ValidationError:
    return RowRef(table, position).error(detail, "vector")


def _expected(dims: int | None) -> str:
    return f"expected {dims} (the table's vectors have {dims} dimensions)" if dims is not None else ""


def _matrix(table: str, vectors: Any, single: bool, expected: int | None) -> np.ndarray:
    """``vectors`` as a float32 array, or the error naming the first row that is not a list of numbers (or is
    longer or shorter than the others)."""
    if isinstance(vectors, Mapping):
        raise _error(table, None, "vectors must be one vector per row (a list of lists or a 2-D array); a "
                                  "row has one vector, standing for all its embedding fields joined")
    if isinstance(vectors, str | bytes):
        raise _error(table, None, f"{'vector' if single else 'vectors'} must be numbers, not text")
    try:
        return np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError, OverflowError):
        pass
    if single or not isinstance(vectors, Iterable):
        raise _error(table, None, f"the vector must be a sequence of numbers, not {type(vectors).__name__}")
    width = expected
    for position, row in enumerate(vectors):
        try:
            array = np.asarray(row, dtype=np.float32)
        except (TypeError, ValueError, OverflowError):
            raise _error(table, position, f"the vector is not a sequence of numbers ({str(row)[:60]})") from None
        if array.ndim != 1:
            raise _error(table, position, f"the vector must be a flat sequence of numbers, got shape "
                                          f"{array.shape}")
        if width is None:
            width = len(array)
        elif len(array) != width:
            what = _expected(expected) if expected is not None else f"expected {width} like the first row"
            raise _error(table, position, f"the vector has {len(array)} dimensions, {what}")
    raise _error(table, None, "vectors must be a sequence of vectors of numbers")


def _unit_rows(table: str, matrix: np.ndarray, single: bool) -> np.ndarray:
    """Rows scaled to unit length; a row with NaN, infinity or only zeros is an error naming it."""
    squares = np.einsum("ij,ij->i", matrix, matrix)  # the common case in a few numpy calls (a single insert)
    if np.isfinite(squares).all() and squares.all():
        return matrix / np.sqrt(squares)[:, None]
    # NaN, infinity, zeros, or squares beyond float32 (a vector of huge or tiny numbers): row by row
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise _error(table, None if single else bad, "the vector holds NaN or infinity (or numbers too large "
                                                     "for float32); every value must be a finite number")
    norms = np.linalg.norm(matrix, axis=1)
    zero = norms == 0
    if zero.any():
        bad = int(np.flatnonzero(zero)[0])
        raise _error(table, None if single else bad, "the vector is all zeros: it has no direction, so no "
                                                     "cosine similarity")
    return np.ascontiguousarray(matrix / norms[:, None], dtype=np.float32)


def given_vectors(table: str, vectors: Any, count: int, expected: int | None, single: bool = False) -> np.ndarray:
    """The vectors of ``count`` rows (``single``: the one vector of :meth:`Database.insert`) as a
    ``count x dimensions`` float32 matrix of unit rows. ``expected`` is the table's dimension once it holds
    vectors (``None``: the first vectors a table gets set it)."""
    matrix = _matrix(table, vectors, single, expected)
    if single and matrix.ndim == 2 and matrix.shape[0] == 1:
        matrix = matrix[0]
    if single:
        if matrix.ndim != 1:
            raise _error(table, None, f"vector must be one flat sequence of numbers, got shape {matrix.shape}")
        matrix = matrix.reshape(1, -1)
    elif matrix.ndim != 2:
        shape = "one vector" if matrix.ndim == 1 else f"shape {matrix.shape}"
        raise _error(table, None, f"vectors must hold one vector per row (shape (rows, dimensions)), got {shape}")
    if matrix.shape[0] != count:
        raise _error(table, None, f"{matrix.shape[0]} vectors for {count} rows: give one vector per row, in "
                                  f"the order of the rows")
    dims = matrix.shape[1]
    if dims == 0:
        raise _error(table, None if single else 0, "the vector is empty")
    if expected is not None and dims != expected:
        raise _error(table, None if single else 0, f"the vector has {dims} dimensions, {_expected(expected)}")
    return _unit_rows(table, matrix, single)


def query_vector(vector: Any, table: str | None, expected: int | None) -> np.ndarray:
    """A search's query vector as a unit float32 vector; ``expected``: the dimension of the searched table."""
    try:
        return given_vectors(table or "search", vector, 1, expected, single=True)[0]
    except ValidationError as exc:
        where = f" for table {table!r}" if table is not None else ""
        detail = exc.detail.replace("the vector", "the query vector").replace("vector must", "query vector must")
        raise ValidationError(f"search{where}: {detail}", table=table, field="vector", detail=detail) from None
