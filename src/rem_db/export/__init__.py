"""Exports of tables to Parquet, CSV and JSON Lines (SPEC §8; docs/export.md).

``Database.export`` is the entry point; :func:`export` implements it. ``arrow_schema`` maps a table's
schema to typed columns, ``batches`` turns chunks of entities into Arrow record batches, ``writers`` writes
the files, ``exporter`` streams the rows.
"""

from __future__ import annotations

from .arrow_schema import Column, arrow_schema, table_columns
from .exporter import MANIFEST, export, row_group_size
from .writers import FORMATS, format_for

__all__ = ["FORMATS", "MANIFEST", "Column", "arrow_schema", "export", "format_for", "row_group_size",
           "table_columns"]
