"""The kill -9 campaign's workload (tests/test_kill_campaign.py): a seeded, deterministic sequence of mixed
writes — embedded batch inserts, updates, soft and hard deletes, edges, document ingests — that the child
process performs and the parent regenerates, so the parent knows every operation, acknowledged or cut off
by the kill, and what the database must hold afterwards."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOTES: dict[str, Any] = {
    "title": "notes", "type": "object", "description": "Campaign notes, embedded for search.",
    "properties": {"key": {"type": "string"}, "body": {"type": "string"}, "batch": {"type": "integer"}},
    "required": ["key", "body"], "key_field": "key", "embedding_fields": ["body"], "indexed_fields": ["batch"],
}
WORDS = ["amber", "basalt", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper", "kelp",
         "lagoon", "mesa", "nectar", "obsidian", "prairie", "quartz", "russet", "sierra", "tundra", "umber",
         "vellum", "willow", "xenon", "yarrow", "zephyr"]
BATCH_ROWS = 6


def sentence(rng: random.Random, tag: str) -> str:
    """A distinct text (its tag makes it unique, the words make it embeddable)."""
    words = " ".join(rng.choice(WORDS) for _ in range(8))
    return f"{tag}: the {words} report"


@dataclass
class Op:
    n: int
    kind: str  # batch | update | delete | edge | ingest
    rows: list[dict[str, Any]] = field(default_factory=list)  # batch
    key: str = ""  # update / delete: the note; edge: the source
    body: str = ""  # update
    hard: bool = False  # delete
    dst: str = ""  # edge
    doc: str = ""  # ingest: file name
    text: str = ""  # ingest: file content


@dataclass
class Model:
    """What the database must hold after a prefix of the operations."""

    notes: dict[str, str | None] = field(default_factory=dict)  # key -> body (None: deleted)
    texts: dict[str, str] = field(default_factory=dict)  # key -> its last body (kept after a delete)
    edges: set[tuple[str, str]] = field(default_factory=set)
    docs: set[str] = field(default_factory=set)

    def apply(self, op: Op) -> None:
        if op.kind == "batch":
            self.notes.update({r["key"]: r["body"] for r in op.rows})
            self.texts.update({r["key"]: r["body"] for r in op.rows})
        elif op.kind == "update":
            self.notes[op.key] = self.texts[op.key] = op.body
        elif op.kind == "delete":
            self.notes[op.key] = None
            self.edges = {e for e in self.edges if op.key not in e}
        elif op.kind == "edge":
            self.edges.add((op.key, op.dst))
        elif op.kind == "ingest":
            self.docs.add(op.doc)

    def live(self) -> list[str]:
        return [k for k, body in self.notes.items() if body is not None]


def plan(seed: int, count: int) -> list[Op]:
    """``count`` operations; each update, delete or edge names a note that is live at that point."""
    rng = random.Random(seed)
    model = Model()
    ops: list[Op] = []
    for n in range(count):
        live = model.live()
        kind = rng.choices(["batch", "update", "delete", "edge", "ingest"], [30, 20, 12, 23, 15])[0]
        if kind != "batch" and kind != "ingest" and len(live) < 2:
            kind = "batch"
        if kind == "batch":
            op = Op(n, kind, rows=[{"key": f"k{n}-{i}", "body": sentence(rng, f"note {n}-{i}"), "batch": n}
                                   for i in range(BATCH_ROWS)])
        elif kind == "update":
            op = Op(n, kind, key=rng.choice(live), body=sentence(rng, f"updated {n}"))
        elif kind == "delete":
            op = Op(n, kind, key=rng.choice(live), hard=rng.random() < 0.5)
        elif kind == "edge":
            src, dst = rng.sample(live, 2)
            op = Op(n, kind, key=src, dst=dst)
        else:
            paragraphs = [sentence(rng, f"document {n} part {p}") * 12 for p in range(rng.randint(1, 4))]
            op = Op(n, kind, doc=f"doc{n}.md", text=f"# Document {n}\n\n" + "\n\n".join(paragraphs))
        ops.append(op)
        model.apply(op)
    return ops


def perform(db: Any, op: Op, docs: Path) -> None:
    """Carry out one operation (in the child)."""
    if op.kind == "batch":
        db.insert_batch("notes", op.rows)
    elif op.kind == "update":
        db.upsert("notes", {"key": op.key, "body": op.body})
    elif op.kind == "delete":
        db.delete(db.lookup(op.key)[0]["id"], hard=op.hard)
    elif op.kind == "edge":
        db.add_edge(op.key, op.dst, "cites", {"op": op.n})
    else:
        path = docs / op.doc
        path.write_text(op.text)
        db.ingest(path, chunk_tokens=64, overlap_tokens=0)
