"""Vector and hybrid search (SPEC §6): cosine similarity over HNSW, pre-filtered by a WHERE clause,
optionally fused with BM25 by reciprocal rank fusion."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ..embeddings.precomputed import query_vector
from ..embeddings.writer import EmbeddingWriter
from ..entities.engine import EntityEngine
from ..errors import EmbeddingError, QueryError, ValidationError
from ..index.ann import AnnIndex, SubsetSearch
from ..index.vectors import VectorIndexes
from ..schema.registry import SchemaRegistry
from .names import MAX_NAME_CHARS, name_key, names_of
from .probe import PROBE_PER_HIT, Matching, probed_search

MAX_TOP_K = 10_000
MAX_EF = 10_000  # search breadth of one call (the schema setting hnsw.ef_search has the same bound)
EXACT_LIMIT = 2_000  # candidate sets up to this size are searched exactly (numpy) instead of through HNSW
SUBSET_LIMIT = 32_768  # ... or up to this size, among themselves where the index can (index/sketch.py: ~0.4 ms)
POST_FILTER_OVERSAMPLE = 1.5  # an unfiltered search this many times wider than the candidates' share needs
POST_FILTER_MAX = 400  # ... up to this breadth (top 10 at 5 %: 10 + 8 checked ones / 0.05 * 1.5 ≈ 540 is
#                        over it, at 10 % 271 is not); narrower filters use a filter callback
RRF_K = 60
CANDIDATE_CACHE = 32
PROBES_BEFORE_READING = 2  # a filter probed this often without a write between reads its candidate ids next
LEXICAL_WEIGHT = 0.5
HYBRID_DEPTH = 100
EXACT_BOOST = 1.0  # added to the fused score of an exact-name hit: above any fused score (at most 1.5 / 61)


class Candidates:
    """Which ids a search may return: everything (``ids=None``) minus ``excluded``, or exactly ``ids``."""

    def __init__(self, ids: set[bytes] | None, excluded: set[bytes], check: Any = None) -> None:
        self.ids = ids
        self.excluded = excluded
        self.check = check  # entity -> bool, for filters the indexes cannot answer exactly
        self.labels: tuple[int, set[int]] | None = None  # (id of the AnnIndex, its allowed labels)
        self.prepared: tuple[int, Any] | None = None  # (id of the AnnIndex, its subset of them or None)

    def allowed_labels(self, index: AnnIndex) -> set[int]:
        if self.labels is None or self.labels[0] != id(index):
            if self.ids is None:
                raise ValueError("allowed_labels needs an explicit set of candidate ids")
            self.labels = (id(index), _allowed_labels(index, self.ids, self.excluded))
        return self.labels[1]

    def subset(self, index: AnnIndex) -> Any:
        """The allowed labels prepared for ``index.search_subset``, or None: the index cannot, or they are too
        many for it to be faster than its graph."""
        if self.prepared is None or self.prepared[0] != id(index):
            subset = None
            if isinstance(index, SubsetSearch) and self.ids is not None and len(self.ids) <= SUBSET_LIMIT:
                subset = index.subset(self.allowed_labels(index))
            self.prepared = (id(index), subset)
        return self.prepared[1]

    def allows(self, id16: bytes) -> bool:
        if id16 in self.excluded:
            return False
        return self.ids is None or id16 in self.ids


class WhereFilter(Protocol):
    """A compiled WHERE clause (the query engine's ``Filter``)."""

    def matches(self, entity: dict[str, Any]) -> bool: ...

    def candidate_ids(self) -> set[bytes] | None: ...

    def probe(self) -> Matching | None: ...

    @property
    def exact(self) -> bool: ...


#: ``(table, where, params) -> WhereFilter``: the query engine compiles search filters
FilterCompiler = Callable[[str, str, Any], WhereFilter]


class SearchEngine:
    """Answers :meth:`Database.search` from the schemas, the entities, the embedder (vectors, BM25) and the
    HNSW indexes; WHERE filters are compiled by the query engine (``compile_filter``)."""

    def __init__(self, schemas: SchemaRegistry, entities: EntityEngine, embedder: EmbeddingWriter,
                 indexes: VectorIndexes, compile_filter: FilterCompiler) -> None:
        self.schemas = schemas
        self.entities = entities
        self.embedder = embedder
        self.indexes = indexes
        self.compile_filter = compile_filter
        # repeated filters (same table, WHERE and parameters) reuse their candidate sets until the next write
        self._cache: OrderedDict[tuple, tuple[int, Candidates]] = OrderedDict()
        # per filter: the generation it was compiled at, its probe (search/probe.py), [probes since]
        self._probes: OrderedDict[tuple, tuple[int, Matching | None, list[int]]] = OrderedDict()

    def search(self, query: str | None = None, schema: str | None = None, top_k: int = 10, where: str | None = None,
               hybrid: bool = False, include_deleted: bool = False, params: Any = None, vector: Any = None,
               ef: int | None = None) -> list[tuple[dict, float]]:
        """By a query text (embedded with each table's provider) or by a query ``vector``, exactly one of
        them; ``ef``: this call's HNSW search breadth (from ``top_k`` to :data:`MAX_EF`; default the table's
        ``hnsw.ef_search``)."""
        if (query is None) == (vector is None):
            raise ValidationError("search takes either a query text or a query vector (vector=...)" +
                                  (", not both" if query is not None else ""))
        if vector is None and (not isinstance(query, str) or not query.strip()):
            raise QueryError("search needs a non-empty query text")
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise QueryError(f"top_k must be a whole number from 1 to {MAX_TOP_K:,}, got {top_k!r}")
        if ef is not None and (isinstance(ef, bool) or not isinstance(ef, int) or not top_k <= ef <= MAX_EF):
            raise ValidationError(f"ef must be a whole number from top_k ({top_k}) to {MAX_EF:,}, got {ef!r}")
        if vector is not None:
            if hybrid:
                raise ValidationError("hybrid search ranks by the words of a query text too: pass a query text, "
                                      "not a vector")
            return self._search_by_vector(vector, schema, top_k, where, include_deleted, params, ef)
        # a table of given vectors another dimension than its provider's is searched by vector only
        tables = [t for t in self._tables(schema) if schema is not None or not self._text_mismatch(t)]
        return _across(tables, top_k, lambda table: self._search_table(
            table, query, top_k, where, hybrid, include_deleted, params, ef=ef))

    def _text_mismatch(self, table: str) -> str | None:
        schema = self.schemas.get(table)
        return self.embedder.text_mismatch(schema, self.embedder.primary_spec(schema))

    def _search_by_vector(self, vector: Any, schema: str | None, top_k: int, where: str | None,
                          include_deleted: bool, params: Any, ef: int | None) -> list[tuple[dict, float]]:
        """Nearest rows to a query vector: of one table (of its dimension), or of every table whose vectors
        have the query's dimension."""
        tables = self._tables(schema)
        if schema is not None:
            query = query_vector(vector, schema, self.embedder.dimensions(schema))
            return self._search_table(schema, None, top_k, where, False, include_deleted, params, query, ef)
        query = query_vector(vector, None, None)
        held = {t: self.embedder.dimensions(t) for t in tables}
        matching = [t for t, dims in held.items() if dims == len(query)]
        if held and not matching:
            raise ValidationError(f"search: the query vector has {len(query)} dimensions and no table holds "
                                  f"{len(query)}-d vectors ({', '.join(f'{t}: {d}-d' for t, d in held.items())})",
                                  field="vector")
        return _across(matching, top_k, lambda table: self._search_table(
            table, None, top_k, where, False, include_deleted, params, query, ef))

    def _tables(self, schema: str | None) -> list[str]:
        registry = self.schemas
        if schema is not None:
            table = registry.get(schema)
            if not table.embedding_fields:
                raise QueryError(f"table {schema!r} has no embedding fields, so it cannot be searched by "
                                 f"meaning; declare embedding_fields in its schema")
            return [schema]
        embedder = self.embedder
        # the schemas table answers schema discovery (`schema="schemas"`), not searches of your data
        return [s.short_name for s in registry.all()
                if s.embedding_fields and s.short_name != "schemas" and embedder.recorded(s.short_name)]

    def _cached(self, table: str, where: str | None, include_deleted: bool, params: Any) -> Candidates | None:
        cached = self._cache.get((table, where, repr(params), include_deleted))
        return cached[1] if cached is not None and cached[0] == self.entities.generation else None

    def _candidates(self, table: str, where: str | None, include_deleted: bool, params: Any) -> Candidates:
        key = (table, where, repr(params), include_deleted)
        generation = self.entities.generation
        cached = self._cache.get(key)
        if cached is not None and cached[0] == generation:
            self._cache.move_to_end(key)
            return cached[1]
        candidates = self._compute_candidates(table, where, include_deleted, params)
        self._cache[key] = (generation, candidates)
        while len(self._cache) > CANDIDATE_CACHE:
            self._cache.popitem(last=False)
        return candidates

    def _compute_candidates(self, table: str, where: str | None, include_deleted: bool,
                            params: Any) -> Candidates:
        excluded = self._excluded(table, include_deleted)
        flt = self.compile_filter(table, where, params) if where else None
        if flt is None:
            return Candidates(None, excluded)
        ids = flt.candidate_ids()
        if ids is None:  # no index applies: evaluate the filter over the table once
            ids = {uuid.UUID(r["id"]).bytes for r in self.entities.rows(table, include_deleted=True)
                   if flt.matches(r)}
            return Candidates(ids, excluded)
        # candidate_ids() returns a fresh set; rows of an exact one need no re-check
        return Candidates(ids, excluded, check=None if flt.exact else flt.matches)

    def _excluded(self, table: str, include_deleted: bool) -> set[bytes]:
        """Ids no search returns: soft-deleted rows (unless asked for) and rows of an unfinished ingest."""
        excluded: set[bytes] = set()
        if not include_deleted:  # soft-deleted rows: the non-null part of the deleted_at index
            excluded = {i for _, i in self.entities.fields.range(self.schemas.get(table), "deleted_at", None, None)}
        if self.entities.hidden:  # rows of an unfinished ingest (entities/hidden.py)
            excluded |= self.entities.hidden.ids()
        return excluded

    def _probed(self, table: str, spec: str, dims: int, vector: np.ndarray, top_k: int, where: str,
                include_deleted: bool, params: Any, ef: int | None) -> list[tuple[dict, float]] | None:
        """A filtered vector search that checks the graph's nearest rows against the filter instead of
        reading its candidate ids (search/probe.py); None when the filter or its selectivity does not allow
        it, or when the candidate ids are worth reading: they are cached already, or this filter was probed
        twice since the last write (a repeated filter then reads them once and reuses them, cheaper still)."""
        if self._cached(table, where, include_deleted, params) is not None:
            return None
        key = (table, where, repr(params))
        generation = self.entities.generation
        known = self._probes.get(key)
        if known is None or known[0] != generation:  # compiled again after a write (a schema may have changed)
            known = self._probes[key] = (generation, self.compile_filter(table, where, params).probe(), [0])
            while len(self._probes) > CANDIDATE_CACHE:
                self._probes.popitem(last=False)
        self._probes.move_to_end(key)
        _, matching, uses = known
        uses[0] += 1
        if matching is None or uses[0] > PROBES_BEFORE_READING:
            return None
        excluded = self._excluded(table, include_deleted)
        ranked = self.indexes.search(table, spec, dims, lambda index: probed_search(
            index, vector, top_k, matching, excluded, ef, POST_FILTER_MAX))
        if ranked is None:
            return None
        return self._entities(ranked, top_k, Candidates(None, excluded), include_deleted)

    def search_vector(self, vector: Any, schema: str | None, top_k: int = 10, where: str | None = None,
                      include_deleted: bool = False, params: Any = None,
                      ef: int | None = None) -> list[tuple[dict, float]]:
        """``search(vector=vector, ...)``: nearest rows to a query vector (of the table's dimension)."""
        return self.search(None, schema, top_k, where, False, include_deleted, params, vector=vector, ef=ef)

    def _search_table(self, table: str, query: str | None, top_k: int, where: str | None, hybrid: bool,
                      include_deleted: bool, params: Any, vector: np.ndarray | None = None,
                      ef: int | None = None) -> list[tuple[dict, float]]:
        schema = self.schemas.get(table)
        embedder = self.embedder
        if table == "schemas":
            embedder.backfill(table)
        spec = embedder.primary_spec(schema)
        dims = embedder.dimensions(table)
        if dims is None:
            return []  # nothing embedded yet
        if vector is None:
            if query is None:
                raise QueryError("search needs a query text or a query vector")
            why = embedder.text_mismatch(schema, spec)
            if why is not None:
                raise EmbeddingError(f"{why}, so it cannot be searched by text: search it with "
                                     f"search(vector=...)")
            vector = embedder.providers.get(spec).embed_batch([query])[0]
        if where and not hybrid:
            probed = self._probed(table, spec, dims, vector, top_k, where, include_deleted, params, ef)
            if probed is not None:
                return probed
        candidates = self._candidates(table, where, include_deleted, params)
        depth = max(top_k, HYBRID_DEPTH) if hybrid else top_k
        ranked = self._vector_ranked(table, spec, dims, vector, depth, candidates, ef)
        if hybrid:
            if query is None:
                raise QueryError("hybrid search needs a query text")
            everything = candidates.ids is None and not candidates.excluded
            lexical = embedder.fulltext.search(table, query, depth,
                                               allowed=None if everything else _AllowedSet(candidates))
            ranked = self._names_first(table, schema.key_field, query, _fuse(ranked, lexical, depth), candidates)
        return self._entities(ranked, top_k, candidates, include_deleted)

    def _names_first(self, table: str, key_field: str | None, query: str, ranked: list[tuple[bytes, float]],
                     candidates: Candidates) -> list[tuple[bytes, float]]:
        """Exact-name boost: hits the query names exactly (their key value, ``name``, or their document's
        title or file name; :mod:`.names`) go first, in fused order, with :data:`EXACT_BOOST` added to their
        score; an entity whose key value is the query verbatim is added when neither ranking found it."""
        wanted = name_key(query) if len(query) <= MAX_NAME_CHARS else ""
        if not wanted:
            return ranked
        seen = {i for i, _ in ranked}
        try:
            keyed = self.entities.keys.find(query.strip()) if key_field else []
        except ValidationError:  # not valid text: no key can hold it
            keyed = []
        extra = [(i, 0.0) for t, i in keyed if t == table and i not in seen and candidates.allows(i)]
        pool = [*ranked, *extra]
        records = self.entities.get_many([i for i, _ in pool])
        first, rest = [], []
        for (id16, score), record in zip(pool, records, strict=True):
            if record is not None and wanted in names_of(record, key_field):
                first.append((id16, score + EXACT_BOOST))
            elif score:
                rest.append((id16, score))
        return first + rest if first else ranked

    def _vector_ranked(self, table: str, spec: str, dims: int, vector: np.ndarray, k: int,
                       candidates: Candidates, ef: int | None = None) -> list[tuple[bytes, float]]:
        def run(index: AnnIndex) -> list[tuple[bytes, float]]:
            want = k + (8 if candidates.check else 0)
            subset = candidates.subset(index)
            if subset is not None and isinstance(index, SubsetSearch):
                return [hit for hit in index.search_subset(subset, vector, want) if candidates.allows(hit[0])]
            if candidates.ids is not None and len(candidates.ids) <= EXACT_LIMIT:
                ids = [i for i in candidates.ids if i not in candidates.excluded and index.label_of(i) is not None]
                if not ids:
                    return []
                scores = index.vectors(ids) @ vector
                order = np.argsort(-scores)[:want]
                return [(ids[n], float(scores[n])) for n in order]
            if candidates.ids is None and not candidates.excluded:
                return index.search(vector, want, ef=ef)
            if candidates.ids is None:  # everything but the soft-deleted rows
                gone = {index.label_of(i) for i in candidates.excluded} - {None}
                return index.search(vector, min(want, len(index) - len(gone)),
                                    allowed=lambda label: label not in gone, ef=ef)
            found = _post_filtered(index, vector, want, candidates, ef)
            if found is not None:
                return found
            labels = candidates.allowed_labels(index)
            return index.search(vector, min(want, len(labels)), allowed=labels.__contains__, ef=ef)
        return self.indexes.search(table, spec, dims, run)

    def _entities(self, ranked: list[tuple[bytes, float]], top_k: int, candidates: Candidates,
                  include_deleted: bool) -> list[tuple[dict, float]]:
        records = self.entities.get_many([i for i, _ in ranked])
        out = []
        for (_, score), record in zip(ranked, records, strict=True):
            if record is None or (record.get("deleted_at") and not include_deleted):
                continue
            if candidates.check is not None and not candidates.check(record):
                continue
            out.append((record, score))
            if len(out) == top_k:
                break
        return out


class _AllowedSet:
    """``in`` test for BM25 restricted to the candidates."""

    def __init__(self, candidates: Candidates) -> None:
        self.c = candidates

    def __contains__(self, id16: bytes) -> bool:
        return self.c.allows(id16)


def _across(tables: list[str], top_k: int,
            search: Callable[[str], list[tuple[dict, float]]]) -> list[tuple[dict, float]]:
    """The best ``top_k`` hits of ``search`` over several tables. A WHERE naming a column one table lacks
    matches no row of that table (as a metadata filter on a missing key does in Chroma or LanceDB); only a
    column no searched table knows is an error."""
    hits: list[tuple[dict, float]] = []
    unknown: list[QueryError] = []
    for table in tables:
        try:
            hits.extend(search(table))
        except QueryError as exc:
            if not str(exc).startswith("unknown column"):
                raise
            unknown.append(exc)
    if unknown and len(unknown) == len(tables):
        raise unknown[0]
    hits.sort(key=lambda hit: -hit[1])
    return hits[:top_k]


def _post_filtered(index: AnnIndex, vector: np.ndarray, want: int, candidates: Candidates,
                   ef: int | None) -> list[tuple[bytes, float]] | None:
    """The ``want`` nearest candidates from an unfiltered search ``POST_FILTER_OVERSAMPLE`` times wider than
    the candidates' share of the index needs, or None when that search would be too wide
    (> :data:`POST_FILTER_MAX`) or found fewer than ``want`` candidates (the caller then searches with a
    filter callback).

    A filter callback runs in Python for every node the graph search visits (about 4 ms at 10 %
    selectivity on 100k vectors), an unfiltered search of breadth 200 about 1 ms. Any candidate nearer than
    the last hit of the wide search would have been among its hits, so the kept ones are the nearest
    candidates with the same approximation as any HNSW answer (and a wider search breadth than the default).
    """
    assert candidates.ids is not None
    total = len(index)
    if total == 0:
        return []
    share = len(candidates.ids) / total
    breadth = int(want * POST_FILTER_OVERSAMPLE / share) + 1 if share > 0 else POST_FILTER_MAX + 1
    if candidates.check is None:  # an exact filter asks for top_k only: search at least as wide as a probe
        # (search/probe.py): at 151 for a top 10 at 10 % the graph's approximation showed (recall@10 0.982)
        breadth = max(breadth, min(PROBE_PER_HIT * want, POST_FILTER_MAX))
    if breadth > POST_FILTER_MAX or breadth > total:
        return None
    allows = candidates.allows
    kept = [hit for hit in index.search(vector, breadth, ef=None if ef is None else max(ef, breadth))
            if allows(hit[0])]
    return kept[:want] if len(kept) >= want else None


def _allowed_labels(index: AnnIndex, ids: set[bytes], excluded: set[bytes]) -> set[int]:
    return index.labels_of(ids - excluded if excluded else ids)


def _fuse(vector: list[tuple[bytes, float]], lexical: list[tuple[bytes, float]],
          depth: int) -> list[tuple[bytes, float]]:
    """Weighted reciprocal rank fusion: score = sum over rankings of weight / (60 + rank).

    The BM25 ranking weighs half as much as the vector ranking: on paraphrased questions stray word matches
    would otherwise push the right answer down (measured on tests/embeddings/fixtures/passages.json), while
    a rare exact term (a name, a model number) ranked first by BM25 still lifts its document."""
    scores: dict[bytes, float] = {}
    for ranking, weight in ((vector, 1.0), (lexical, LEXICAL_WEIGHT)):
        for rank, (id16, _) in enumerate(ranking, start=1):
            scores[id16] = scores.get(id16, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: -item[1])[:depth]
