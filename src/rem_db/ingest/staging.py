"""Large documents written in parts and made visible at once (docs/ingest.md, "Large files").

A document of more than ``batch_chunks`` chunks is not written in one batch: that batch, and memory, would
grow with the file. Its chunks are written batch by batch as hidden rows (:mod:`rem_db.entities.hidden`):
each batch records their ids under the document in the same atomic write, and every read leaves them out.
The last write commits the document row, shows the new chunks and hides the chunks of the stored version
that the new one no longer has; those are deleted right after, in bounded steps. Until that last write the
stored version stays whole and is all a reader sees; if the ingest stops before it (an error, kill -9),
the new chunks are deleted: at once after an error, on the next open or ingest after a crash.

Chunk ids. A chunk equal to the stored one at its ordinal keeps its id and is not written again. Any other
chunk must not overwrite a visible row, so each ordinal has two ids (:func:`chunk_ids`): the usual one
(``<table>:<uri>:<ordinal>``, SPEC §1) and an alternate; a changed chunk takes the one the stored version does
not use (its vectors are copied when only the metadata changed), so the two alternate across replacements.

The document's ``has_chunk`` edges: for a new document they are written with each batch (no reader reaches
them: the document row does not exist yet), so the last write holds the document row alone. A stored
document's edges change in the last write (two edge keys per changed chunk), and a document of more than
``adjacency.MAX_INLINE`` edges is written as a hub whose unchanged edges are never read or rewritten.
"""

from __future__ import annotations

import logging
import uuid
from array import array
from typing import TYPE_CHECKING, Any

from ..entities.group import HubEdges, purge_hidden, write_document, write_group
from ..entities.hidden import META, PART_IDS, RETIRED, STAGED, part_key, part_value
from ..entities.ids import hashed_uuid, id_source
from ..entities.records import merge_edges, prepare, user_fields
from ..errors import DatabaseError
from ..graph import adjacency as adj
from ..graph.changes import EdgeChanges
from ..storage.batch import Batch
from ..storage.codec import now_iso, successor
from .detect import FileProblem

if TYPE_CHECKING:
    from ..entities.engine import EntityEngine

log = logging.getLogger("rem_db.ingest")
REL_TYPE = "has_chunk"
ALTERNATE = ":alt"  # appended to a chunk's id source for its second id


def _edge_value(ordinal: int, created_at: str) -> bytes:
    """The stored value of a ``has_chunk`` edge, copied to its own size: orjson (3.12+) returns bytes that
    keep a buffer of 4 KB or more, which a batch of edges would hold once per edge."""
    return bytes(memoryview(adj.edge_value({"chunk_ordinal": ordinal}, created_at)))


def chunk_ids(table: str, row: dict[str, Any]) -> tuple[bytes, bytes]:
    """The two ids a chunk row can have: the usual deterministic one and its alternate."""
    source = id_source(table, row, None)
    assert source is not None  # chunk rows have a uri
    return hashed_uuid(source).bytes, hashed_uuid(source + ALTERNATE).bytes


class StagedDocument:
    """One large document being written: :meth:`write` each batch of chunk rows (consecutive ordinals, from
    0), then :meth:`commit` the document row, or :meth:`abandon` it; :meth:`close` in any case."""

    def __init__(self, engine: EntityEngine, table: str, doc_id: uuid.UUID, existing: dict[str, Any] | None,
                 progress: Any = None) -> None:
        self.engine = engine
        self.table = table
        self.schema = engine.schema_of(table)
        self.doc16 = doc_id.bytes
        self.existing = existing  # the stored document (a hub's edges as their count), or None
        marker = ((existing or {}).get("metadata") or {}).get("ingest") or {}
        self.old_table = str(marker.get("schema") or table)  # where the stored version's chunks are
        self.progress = progress
        self.hidden = engine.hidden
        self.rel = engine.rel_key(REL_TYPE)
        self.parts: list[bytes] = []  # meta keys listing the hidden new chunks
        self.written = bytearray()  # ids of the new chunks written (16 bytes each) ...
        self.ordinals = array("L")  # ... and their ordinals
        self.kept: set[bytes] = set()  # ids of stored chunks the new version keeps as they are
        self.count = 0  # chunks of the new version
        if self.doc16 in self.hidden.active:
            raise FileProblem("it is being ingested by another call at the same time")
        self.hidden.active.add(self.doc16)

    def close(self) -> None:
        self.hidden.active.discard(self.doc16)

    # -- the parts ---------------------------------------------------------------------------------
    def write(self, rows: list[dict[str, Any]]) -> None:
        """Write the next chunk rows as hidden rows (unchanged ones are skipped), in one atomic batch."""
        pairs = [chunk_ids(self.table, row) for row in rows]
        current = self._current(pairs) if self.existing is not None else [None] * len(rows)
        out: list[dict[str, Any]] = []
        ids: list[bytes] = []
        reuse: dict[bytes, bytes] = {}
        for row, (usual, alternate), stored in zip(rows, pairs, current, strict=True):
            self.count += 1
            if stored is None:
                new16 = usual
            else:
                old16, record = stored
                if record is not None and self._same(row, record):
                    self.kept.add(old16)
                    continue
                new16 = alternate if old16 == usual else usual
                reuse[new16] = old16
            out.append({**row, "id": str(uuid.UUID(bytes=new16))})
            ids.append(new16)
        if out:
            self._write(out, ids, reuse)

    def _current(self, pairs: list[tuple[bytes, bytes]]) -> list[tuple[bytes, dict[str, Any] | None] | None]:
        """Per ordinal, the stored chunk the document links to (``(id, record)``), or None."""
        edge = self.engine.ks.edge
        found = self.engine.store.multi_get("edges", [edge(self.doc16, self.rel, i) for pair in pairs for i in pair])
        linked = [usual if found[2 * n] is not None else alternate if found[2 * n + 1] is not None else None
                  for n, (usual, alternate) in enumerate(pairs)]
        wanted = [i for i in linked if i is not None]
        records = dict(zip(wanted, self.engine.get_stored_many(wanted), strict=True))
        return [(i, records[i]) if i is not None else None for i in linked]

    def _same(self, row: dict[str, Any], record: dict[str, Any]) -> bool:
        """The new chunk row equals the stored, live chunk (validated as it would be written)."""
        return not record.get("deleted_at") and prepare(self.schema, row, None).user == user_fields(record)

    def _write(self, rows: list[dict[str, Any]], ids: list[bytes], reuse: dict[bytes, bytes]) -> None:
        engine, table, hidden = self.engine, self.table, self.hidden
        key = part_key(engine.ks, self.doc16, STAGED, len(self.parts))
        ordinals = [int(row["chunk_ordinal"]) for row in rows]

        def stage(batch: Batch) -> None:
            batch.put(META, key, part_value(table, ids))
            if self.existing is None:  # a new document: its edges now (it is not there to be walked from)
                now = now_iso()
                EdgeChanges.of(batch, engine.store, engine.ks).link_many(
                    self.doc16, [(self.rel, i, _edge_value(n, now)) for i, n in zip(ids, ordinals, strict=True)])
            hidden.hide(table, ids)  # before the rows are written: no reader sees them early

        try:
            write_group(engine, [(table, rows)], progress=self.progress, reuse=reuse, stage=stage)
        except Exception:
            hidden.show(table, ids)  # nothing was written
            raise
        self.parts.append(key)
        self.written += b"".join(ids)
        self.ordinals.extend(ordinals)

    # -- the end -----------------------------------------------------------------------------------
    def commit(self, doc: dict[str, Any]) -> None:
        """Write the document row (``doc``, without edges) and show the new chunks, hiding the stored ones it
        no longer links, in one atomic batch; then delete those."""
        engine, table, hidden = self.engine, self.table, self.hidden
        written = [bytes(self.written[n:n + 16]) for n in range(0, len(self.written), 16)]
        retired = self._retired()
        edges = self._edges(written, retired)
        parts = [retired[n:n + PART_IDS] for n in range(0, len(retired), PART_IDS)]

        old_table = self.old_table

        def stage(batch: Batch) -> None:
            for key in self.parts:
                batch.delete(META, key)
            for number, ids in enumerate(parts):
                batch.put(META, part_key(engine.ks, self.doc16, RETIRED, number), part_value(old_table, ids))
            hidden.hide(old_table, retired)
            batch.on_commit.append(lambda _seq: hidden.show(table, written))

        try:
            write_document(engine, "documents", doc, edges, stage=stage)
        except Exception:
            hidden.show(old_table, retired)
            raise
        self.parts = []
        try:
            purge_hidden(engine, self.doc16)
        except DatabaseError:  # committed: the rest is removed on the next open or ingest
            log.warning("could not remove the replaced chunks of %s yet", doc.get("uri"), exc_info=True)

    def _retired(self) -> list[bytes]:
        """Chunks the stored document links that the new version does not keep (its new chunks are not
        linked yet: a stored document gets their edges in the last write)."""
        if self.existing is None:
            return []
        prefix = self.engine.ks.edges_of(self.doc16) + self.rel
        return [key[-16:] for key in self.engine.store.scan_keys("edges", prefix, successor(prefix))
                if key[-16:] not in self.kept]

    def _edges(self, written: list[bytes], retired: list[bytes]) -> list[dict[str, Any]] | HubEdges:
        """The document's edges after the last write: its whole list while it stays small, else a hub plan
        (the new chunks' edges of a stored document added, the retired ones' removed)."""
        old = self.existing.get("edges") if self.existing is not None else []
        fresh = self.existing is None  # its edges were written with the parts
        total = (old if type(old) is int else len(old or ())) + len(written) - len(retired)
        if type(old) is list and total <= adj.MAX_INLINE:
            now, gone = now_iso(), {str(uuid.UUID(bytes=i)) for i in retired}
            kept = [e for e in old if e["rel_type"] != REL_TYPE or e["dst"] not in gone]
            new = [{"dst": str(uuid.UUID(bytes=i)), "rel_type": REL_TYPE, "properties": {"chunk_ordinal": n},
                    "created_at": now} for i, n in zip(written, self.ordinals, strict=True)]
            return merge_edges(kept, new, now)
        now = now_iso()
        pairs = [] if fresh else zip(written, self.ordinals, strict=True)
        links = [(self.rel, i, _edge_value(n, now)) for i, n in pairs]
        return HubEdges(total, links, [(self.rel, i) for i in retired])

    def abandon(self, exc: Exception) -> FileProblem:
        """The ingest failed before its last write: delete the new chunks (the stored version never
        changed). Returns the problem to report."""
        reason = exc.reason if isinstance(exc, FileProblem) else str(exc)
        try:
            purge_hidden(self.engine, self.doc16)
        except DatabaseError:
            log.warning("could not remove the chunks of a failed ingest", exc_info=True)
            return FileProblem(f"{reason}; the chunks written before the failure are removed on the next open "
                               f"or ingest")
        return FileProblem(reason)

