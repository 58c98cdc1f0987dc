"""Exact-name matching for hybrid search: does a query name an entity (its key value, its ``name``) or the
document a chunk comes from (``metadata.title``, ``metadata.file_name``)?

Names are compared case-insensitively and with every run of spaces and punctuation as one space, so
``Harbor Point Hotel``, ``harbor-point-hotel`` and ``HARBOR_POINT_HOTEL`` are the same name. A file name
matches with or without its extension and a leading id (``doc-022-harbor-point-hotel.xlsx``, ``doc 022 harbor
point hotel``, ``harbor point hotel``).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

MAX_NAME_CHARS = 200  # longer queries are questions, not names: no lookup
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
#: a leading id in a file name: ``doc-001-``, ``001_``, ``A12 - ``
_ID_PREFIX = re.compile(r"^(?:[a-z]{0,4}[-_ ]?)?\d+[-_ .]+(?=\S)", re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_\s]+")


def name_key(text: str) -> str:
    """The form names are compared in: case-folded, punctuation and spaces as single spaces."""
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def readable_stem(file_name: str) -> str:
    """A file name without extension and leading id, separators as spaces: ``doc-022-harbor-point.xlsx``
    -> ``harbor point``; the whole stem when nothing would be left."""
    stem = PurePosixPath(file_name).stem
    plain = _SEPARATORS.sub(" ", _ID_PREFIX.sub("", stem)).strip()
    return plain or _SEPARATORS.sub(" ", stem).strip() or file_name


def names_of(entity: dict[str, Any], key_field: str | None) -> set[str]:
    """Every name an entity answers to, in :func:`name_key` form."""
    values: list[Any] = [entity.get(key_field) if key_field else None, entity.get("name")]
    metadata = entity.get("metadata")
    if isinstance(metadata, dict):
        values.append(metadata.get("title"))
        file_name = metadata.get("file_name")
        if isinstance(file_name, str) and file_name:
            values += [file_name, PurePosixPath(file_name).stem, readable_stem(file_name)]
    return {key for v in values if isinstance(v, str) and (key := name_key(v))}
