"""What the schemas let the offline planner recognise: table names, field names, enum and known values, and the
role of fields (money, quantity, date, rating), per table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..context import FieldInfo, SchemaInfo
from .text import STOP, Token, name_words, similar, stem

#: fields that never stand for a condition or a projection on their own
GENERIC_FIELDS = frozenset({"id", "name", "description", "title", "notes", "body", "content", "email", "metadata",
                            "tags", "edges", "uri", "key", "slug"})
#: system fields every table has
SYSTEM_FIELDS = (FieldInfo("created_at", "date-time", "when the row was created", indexed=True),
                 FieldInfo("modified_at", "date-time", "when the row last changed", indexed=True))
MONEY_NAMES = ("price", "cost", "amount", "total", "value", "revenue", "salary", "fee")
QUANTITY_NAMES = ("stock", "quantity", "qty", "count", "units", "inventory", "item_count")
RATING_NAMES = ("rating", "score", "stars")


@dataclass
class TableVocab:
    info: SchemaInfo
    stems: tuple[str, ...]  # stems of the table name's words
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    field_stems: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: lower-case value -> (field, stored value), for enum values and known values of indexed fields
    values: dict[str, tuple[str, Any]] = field(default_factory=dict)
    description_stems: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.info.name

    def numeric(self) -> list[FieldInfo]:
        return [f for f in self.fields.values() if f.type in ("number", "integer")]

    def dates(self) -> list[FieldInfo]:
        """Date fields, declared ones first, then the system timestamps."""
        declared = [f for f in self.fields.values() if _is_date(f) and f.name not in ("created_at", "modified_at")]
        return declared + [f for f in self.fields.values() if f.name in ("created_at", "modified_at")]

    def role(self, names: tuple[str, ...]) -> FieldInfo | None:
        """The numeric field whose name is one of ``names`` (first match wins), else None."""
        numeric = self.numeric()
        for wanted in names:
            for f in numeric:
                if f.name == wanted or wanted in f.name.split("_"):
                    return f
        return None

    def money(self) -> FieldInfo | None:
        found = self.role(MONEY_NAMES)
        if found is None:
            for f in self.numeric():
                if any(w in f.description.lower() for w in ("price", "euro", "dollar", "cost", "€", "$")):
                    return f
        return found

    def field_mentioned(self, tok: Token) -> FieldInfo | None:
        """The field a token names (``hired`` -> ``hired_on``, ``prices`` -> ``price``), generic fields aside."""
        if tok.lower in STOP:
            return None
        for name, stems in self.field_stems.items():
            if name in GENERIC_FIELDS:
                continue
            if any(similar(tok.stem, s) for s in stems if s not in ("at", "on", "by", "id", "of", "is")):
                return self.fields[name]
        return None

    def names_table(self, tok: Token) -> bool:
        return any(similar(tok.stem, s) for s in self.stems) and tok.lower not in STOP


def _is_date(f: FieldInfo) -> bool:
    return f.type in ("date-time", "date") or f.name.endswith(("_at", "_on", "_date")) or f.name == "date"


def build_vocab(schemas: list[SchemaInfo]) -> list[TableVocab]:
    out = []
    for info in schemas:
        fields = {f.name: f for f in info.fields}
        for system in SYSTEM_FIELDS:
            fields.setdefault(system.name, system)
        vocab = TableVocab(info, tuple(name_words(info.name)), fields)
        vocab.field_stems = {name: tuple(name_words(name)) for name in fields}
        for f in fields.values():
            for value in (*f.enum, *f.values):
                if isinstance(value, str) and value.strip():
                    vocab.values.setdefault(value.lower(), (f.name, value))
        words = (w for w in info.description.replace("(", " ").replace(")", " ").split())
        vocab.description_stems = frozenset(stem(w.strip(",.;:")) for w in words
                                            if w.lower().strip(",.;:") not in STOP and len(w) > 2)
        out.append(vocab)
    return out
