"""Exporting tables to Parquet, CSV or JSON Lines (SPEC §8): ``export_table`` and ``export_all``.

Rows are read in id order and written in chunks of ``P8_EXPORT_ROW_GROUP_SIZE`` rows (default 10,000; one
Parquet row group each), so memory holds a few chunks whatever the size of the table (:mod:`.reading`;
Parquet chunks are converted by :mod:`.fast` when the columns allow). A ``where`` condition is the query
engine's (indexes narrow the rows when they can); its rows are converted row by row.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..config import Settings
from ..errors import ConfigError, NotFoundError, QueryError, SchemaError, StorageError
from ..graph.ids import id16_of
from ..schema.model import TableSchema
from . import fast
from .arrow_schema import Column, table_columns
from .batches import Chunk
from .reading import chunk_vectors, raw_chunks, read_ahead
from .sources import ExportSources
from .writers import format_for, io_error, open_sink, prepare_dir

DEFAULT_ROW_GROUP_SIZE = 10_000
MANIFEST = "manifest.json"
Progress = Callable[[str, int, int | None], None]  # (table, rows written, rows expected or None)


def row_group_size() -> int:
    """``$P8_EXPORT_ROW_GROUP_SIZE`` (default 10,000): rows per chunk and per Parquet row group."""
    return Settings.from_env().export_row_group_size  # read per export: a cached parse, ~20 µs


@dataclass
class Options:
    """What to export and how (shared by every table of an ``--all`` export)."""

    format: str
    where: str | None = None
    params: Any = None
    include_deleted: bool = False
    with_embeddings: bool = False
    progress: Progress | None = None
    chunk_size: int = DEFAULT_ROW_GROUP_SIZE


# -- vectors ---------------------------------------------------------------------------------------
def _dimensions(sources: ExportSources, table: str, spec: str) -> int:
    recorded = sources.recorded(table)
    if recorded is not None and recorded["provider"] == spec:
        return int(recorded["dimensions"])
    for _, matrix in sources.vectors.scan(table, spec, chunk=1):
        return int(matrix.shape[1])
    return int(sources.providers.get(spec).dimensions)


def vector_specs(sources: ExportSources, schema: TableSchema) -> list[tuple[str, str, int]]:
    """``(column, provider spec, dimensions)`` of the vectors a table holds: ``embedding`` (the provider it
    was embedded with, else its configured one) and ``embedding_alt`` when ``P8_ALT_EMBEDDING`` is set."""
    providers = sources.providers
    table = schema.short_name
    recorded = sources.recorded(table)
    primary = recorded["provider"] if recorded else providers.resolve_spec(schema.embedding_provider)
    specs = [("embedding", primary)]
    alt = providers.resolve_spec(providers.alt_spec) if providers.alt_spec else None
    if alt and alt != primary:
        specs.append(("embedding_alt", alt))
    clash = [name for name, _ in specs if name in schema.properties]
    if clash:
        raise SchemaError(f"table {table!r} has a field named {clash[0]!r}, which is also the name of the vector "
                          f"column: export it without embeddings")
    return [(name, spec, _dimensions(sources, table, spec)) for name, spec in specs]


# -- rows ------------------------------------------------------------------------------------------
def _whole_table(opts: Options) -> bool:
    return opts.where is None or not str(opts.where).strip()


def _matching_rows(sources: ExportSources, table: str, opts: Options) -> Iterator[dict[str, Any]]:
    """The rows a ``where`` condition selects (compiled now: a bad condition fails before any file)."""
    from ..query.prefilter import Builder
    from ..query.scan import fetch, table_rows

    flt = sources.compile_filter(table, opts.where or "", opts.params)
    candidates = flt.candidate_ids()
    if candidates is not None:  # an index narrows the table: read only those, in table order
        ids = (i for i in sources.entities.fields.table_ids(table, opts.include_deleted) if i in candidates)
        source = fetch(sources.entities, ids)
    else:
        test = Builder(flt.info).build(flt.expr)
        source, _, _ = table_rows(sources.entities, table, opts.include_deleted, prefilter=test)
    return (row for row in source if flt.matches(row))


def _chunks(sources: ExportSources, table: str, columns: list[Column], opts: Options, split: Callable[[list[Any]], Any],
            rows: Iterator[dict[str, Any]] | None) -> Iterator[Chunk]:
    """The export's chunks: the whole table from its stored bytes (Parquet through :mod:`.fast` when the
    columns allow), or the ``rows`` a condition selected."""
    if rows is not None:
        while chunk := list(itertools.islice(rows, opts.chunk_size)):
            ids = [id16_of(r["id"]) for r in chunk]
            yield Chunk(chunk, chunk_vectors(sources, table, columns, ids), split(chunk))
        return
    engine = sources.entities
    direct = opts.format == "parquet" and fast.eligible(columns)
    schema = fast.read_schema(columns) if direct else None
    # three stages on their own threads: reading the rows, reading vectors and converting, writing
    with contextlib.closing(read_ahead(raw_chunks(sources, table, opts.include_deleted, opts.chunk_size))) as source:
        for ids, raws in source:
            vectors = chunk_vectors(sources, table, columns, ids)
            arrays = fast.convert(columns, schema, raws, engine.with_edges) if schema is not None else None
            if arrays is not None:
                yield Chunk([], vectors, None, arrays)
                continue
            decoded = engine.with_edges([orjson.loads(raw) for raw in raws], ids)
            yield Chunk(decoded, vectors, split(decoded))


def _split_extra(chunk: list[dict[str, Any]], known: frozenset[str], open_table: bool,
                 dropped: Counter[str]) -> list[dict[str, Any] | None] | None:
    """Undeclared fields per row: the ``extra`` values of an open table, else counted as not exported."""
    covered = known.issuperset
    if covered(itertools.chain.from_iterable(chunk)):  # no row has an undeclared field: one C-level pass
        return [None] * len(chunk) if open_table else None
    extras: list[dict[str, Any] | None] = []
    for row in chunk:
        if covered(row):  # the common case, without building a set per row
            extras.append(None)
            continue
        names = row.keys() - known
        extras.append({k: row[k] for k in row if k in names})
        if not open_table:
            dropped.update(names)
    return extras if open_table else None


# -- one table -------------------------------------------------------------------------------------
def export_table(sources: ExportSources, table: str, path: Path, opts: Options) -> dict[str, Any]:
    """Write one table to ``path``; returns the summary (table, path, format, rows, bytes, columns, ...)."""
    from ..query.scan import gc_paused, table_count

    schema = sources.schemas.get(table)
    if opts.with_embeddings and not schema.embedding_fields:
        raise SchemaError(f"table {table!r} has no embedding_fields, so it has no vectors to export "
                          f"(drop --with-embeddings)")
    vectors = vector_specs(sources, schema) if opts.with_embeddings and schema.embedding_fields else []
    columns = table_columns(schema, vectors)
    known = frozenset(c.name for c in columns if c.kind not in ("vector", "extra"))
    open_table = any(c.kind == "extra" for c in columns)
    started = time.perf_counter()
    whole = _whole_table(opts)
    rows = None if whole else _matching_rows(sources, table, opts)  # a bad WHERE fails here, before any file
    expected = table_count(sources.entities, table, opts.include_deleted) if whole else None
    metadata = {"rem.table": table, "rem.schema_version": schema.version,
                "rem.fully_qualified_name": schema.fully_qualified_name}
    sink = open_sink(opts.format, path, table, columns, metadata)
    dropped: Counter[str] = Counter()

    def split(chunk: list[dict[str, Any]]) -> Any:
        return _split_extra(chunk, known, open_table, dropped)

    try:
        pipeline = read_ahead(_chunks(sources, table, columns, opts, split, rows))
        with gc_paused(), contextlib.closing(pipeline) as chunks:
            for chunk in chunks:
                sink.write(chunk)
                if opts.progress is not None:
                    opts.progress(table, sink.rows, expected)
        size = sink.commit()
    except BaseException:
        sink.abort()
        raise
    return {
        "table": table,
        "path": str(path),
        "format": opts.format,
        "rows": sink.rows,
        "bytes": size,
        "columns": [c.describe(flat=opts.format == "csv") for c in columns  # JSONL keeps undeclared fields inline
                    if not (opts.format == "jsonl" and c.kind == "extra")],
        "schema_version": schema.version,
        "where": opts.where,
        "include_deleted": opts.include_deleted,
        "with_embeddings": bool(vectors),
        "undeclared_fields": dict(sorted(dropped.items())),
        "seconds": round(time.perf_counter() - started, 3),
    }


def table_path(output: Path, table: str, fmt: str | None, as_dir: bool = False) -> tuple[Path, str]:
    """Where one table goes: ``output`` itself, or ``output/<table>.<ext>`` when it is a directory (an
    existing one, or ``as_dir``: the path was written with a trailing separator); and the format."""
    if as_dir or output.is_dir():
        fmt = format_for(output, fmt or "parquet")
        return output / f"{table}.{fmt}", fmt
    return output, format_for(output, fmt)


# -- every table -----------------------------------------------------------------------------------
def export_all(sources: ExportSources, directory: Path, opts: Options) -> dict[str, Any]:
    """Every table of the tenant that has rows (system tables included) to ``directory/<table>.<ext>``,
    then ``manifest.json``; returns the manifest."""
    from ..storage.codec import now_iso

    if opts.where is not None:
        raise QueryError("a WHERE condition applies to one table: export that table on its own")
    if directory.exists() and not directory.is_dir():
        raise StorageError(f"cannot export into {directory}: it is a file, not a directory")
    prepare_dir(directory)
    created = now_iso()
    tables, empty = [], []
    for schema in sorted(sources.schemas.all(), key=lambda s: s.short_name):
        name = schema.short_name
        if sources.entities.fields.count_table(name, include_deleted=opts.include_deleted) == 0:
            empty.append(name)
            continue
        table_opts = Options(**{**opts.__dict__, "with_embeddings": opts.with_embeddings
                                and bool(schema.embedding_fields)})
        summary = export_table(sources, name, directory / f"{name}.{opts.format}", table_opts)
        summary["file"] = Path(summary.pop("path")).name
        summary["category"] = schema.category
        summary["fully_qualified_name"] = schema.fully_qualified_name
        for key in ("format", "where", "include_deleted"):
            summary.pop(key)
        tables.append(summary)
    manifest = {
        "format": opts.format,
        "created_at": created,
        "database": str(Path(sources.path).resolve()),
        "tenant": sources.tenant,
        "include_deleted": opts.include_deleted,
        "with_embeddings": opts.with_embeddings,
        "row_group_size": opts.chunk_size,
        "tables": tables,
        "empty_tables": empty,
        "rows": sum(t["rows"] for t in tables),
    }
    target = directory / MANIFEST
    tmp = directory / f".{MANIFEST}.{os.getpid()}.tmp"
    try:
        tmp.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise io_error(target, exc) from None
    return {**manifest, "path": str(directory), "manifest": str(target)}


def _require_directory(directory: Path, parents: bool, is_target: bool) -> None:
    """``mkdir`` semantics: a missing directory the user named as the target is made when its parent
    exists; any other missing directory only with ``parents``. Checked before anything is written."""
    if parents or directory.is_dir() or (is_target and directory.parent.is_dir()):
        return
    blocker = next((p for p in [directory, *directory.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise StorageError(f"cannot create directory {directory}: {blocker} is a file, not a directory")
    missing = directory.parent if is_target else directory
    raise NotFoundError(f"directory {missing} does not exist: create it first, or pass parents=True "
                        f"(`rem export --parents`)")


def export(sources: ExportSources, table: str | None, output: Any, format: str | None = None, where: str | None = None,
           params: Any = None, include_deleted: bool = False, with_embeddings: bool = False,
           all_tables: bool = False, progress: Progress | None = None, parents: bool = False) -> dict[str, Any]:
    """The implementation of :meth:`rem_db.Database.export` (argument checks, then one table or all)."""
    if output is None or not str(output).strip():
        raise ConfigError("export needs an output path (a file, or a directory with all_tables=True)")
    text = os.fspath(output)
    out = Path(text).expanduser()
    chunk_size = sources.row_group_size or row_group_size()
    if all_tables:
        if table is not None:
            raise ConfigError(f"give either a table ({table!r}) or all_tables=True, not both")
        fmt = format_for(out, format or "parquet")
        _require_directory(out, parents, is_target=True)
        return export_all(sources, out, Options(fmt, where, params, include_deleted, with_embeddings, progress,
                                                chunk_size))
    if table is None:
        raise ConfigError("export needs a table name (or all_tables=True)")
    sources.schemas.get(table)  # an unknown table is a NotFoundError naming it, before any file is touched
    as_dir = str(text).endswith(("/", os.sep))
    path, fmt = table_path(out, table, format, as_dir=as_dir)
    _require_directory(path.parent, parents, is_target=as_dir)
    return export_table(sources, table, path, Options(fmt, where, params, include_deleted, with_embeddings,
                                                      progress, chunk_size))
