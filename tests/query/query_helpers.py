"""Schemas and rows shared by the query tests (imported as ``query_helpers``)."""

from __future__ import annotations

from typing import Any

ITEMS: dict[str, Any] = {
    "title": "items",
    "type": "object",
    "description": "Items for the query tests.",
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": "string"},
        "price": {"anyOf": [{"type": "number"}, {"type": "null"}]},
        "qty": {"type": "integer"},
        "category": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "released": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "active": {"type": "boolean"},
        "metadata": {"type": "object"},
        "note": {"type": "string"},
    },
    "required": ["sku", "name"],
    "key_field": "sku",
    "indexed_fields": ["price", "category", "tags", "released", "qty"],
}

# No declared properties: any field name may be queried; values of any type.
LOOSE: dict[str, Any] = {
    "title": "loose",
    "type": "object",
    "description": "Schemaless rows for the query tests.",
}


def item_rows() -> list[dict[str, Any]]:
    """Twelve items: NULLs, missing fields, lists, nested objects, timestamps with offsets, unicode."""
    return [
        {"sku": "A1", "name": "Apple", "price": 1.5, "qty": 10, "category": "fruit", "tags": ["red", "sweet"],
         "released": "2024-01-10T09:00:00Z", "active": True, "metadata": {"author": "ann", "rating": 4},
         "note": "crisp"},
        {"sku": "A2", "name": "apricot", "price": 2.25, "qty": 0, "category": "fruit", "tags": ["orange"],
         "released": "2024-03-01T12:00:00+02:00", "active": False, "metadata": {"author": "bob", "rating": 5}},
        {"sku": "B1", "name": "Banana", "price": 0.5, "qty": 25, "category": "fruit", "tags": ["yellow", "sweet"],
         "released": "2023-12-31T23:30:00-01:00", "active": True, "metadata": {"author": "ann"}},
        {"sku": "C1", "name": "Carrot", "price": 0.75, "qty": 40, "category": "vegetable", "tags": ["orange"],
         "released": None, "active": True, "metadata": {"author": "Cleo", "rating": 3, "origin": {"country": "FR"}}},
        {"sku": "C2", "name": "Céleri", "price": None, "qty": 3, "category": "vegetable", "tags": [],
         "active": False, "metadata": {}},
        {"sku": "D1", "name": "Dates 100%", "price": 7, "qty": 5, "category": None, "tags": ["sweet"],
         "released": "2024-06-15T00:00:00Z", "active": True},
        {"sku": "E1", "name": "Eggplant", "price": 3.0, "qty": 12, "category": "vegetable", "tags": ["purple"],
         "released": "2024-06-15T02:00:00+02:00", "active": False, "metadata": {"author": "bob", "rating": 2}},
        {"sku": "F1", "name": "Fig_dried", "price": 12.5, "qty": 7, "category": "dried", "tags": ["sweet"],
         "released": "2025-01-01T00:00:00Z", "active": True, "metadata": {"author": "zoë", "rating": 5},
         "note": "it's sweet"},
        {"sku": "G1", "name": "Grape", "price": 4.0, "qty": 30, "category": "fruit", "tags": ["red", "green"],
         "released": "2024-09-01T10:00:00Z", "active": True, "metadata": {"author": "ann", "rating": 4}},
        {"sku": "H1", "name": "日本茶", "price": 9.99, "qty": 2, "category": "drink", "tags": ["green"],
         "released": "2024-02-29T08:00:00Z", "active": True, "metadata": {"author": "李", "rating": 5}},
        {"sku": "K1", "name": "Kale", "price": 2.25, "qty": 0, "category": "vegetable", "tags": ["green"],
         "released": "2024-03-01T10:00:00Z", "active": False, "metadata": {"author": None, "rating": 1}},
        {"sku": "L1", "name": "Lemon", "price": 1, "qty": 15, "category": "fruit", "tags": ["yellow", "sour"],
         "released": "2024-05-05T05:05:05.500000Z", "active": True, "metadata": {"author": "Ann", "rating": 3}},
    ]


def skus(rows: list[dict[str, Any]]) -> list[str]:
    return [r["sku"] for r in rows]
