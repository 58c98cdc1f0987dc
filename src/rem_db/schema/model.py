"""A registered table: its JSON Schema plus REM settings (SPEC §2), resolved into one object."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from ..errors import SchemaError
from .types import allows_extra_fields, type_of

SYSTEM_FIELDS = ("id", "entity_type", "created_at", "modified_at", "deleted_at", "edges")
SYSTEM_TIMESTAMPS = ("created_at", "modified_at", "deleted_at")
CATEGORIES = ("system", "agents", "public", "user")
SETTING_KEYS = (
    "short_name", "name", "fully_qualified_name", "version", "description", "category", "key_field",
    "indexed_fields", "embedding_fields", "embedding_provider", "tools", "resources", "additional_properties",
    "hnsw",
)
#: Levels of nested objects and arrays a schema may have. The JSON Schema validator stops at about 255 and
#: the stored schema row wraps the schema in a few more levels, so deeper schemas never worked; 200 leaves
#: that headroom and is far beyond any real table (nested models are usually ``$defs`` references).
MAX_NESTING = 200
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def snake_case(name: str) -> str:
    """``ArticleV2`` / ``my-table`` / ``My Table`` -> ``article_v2`` / ``my_table`` / ``my_table``."""
    text = re.sub(r"[^0-9A-Za-z]+", "_", name)
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", text)
    return text.strip("_").lower()


def parse_version(text: str, table: str = "") -> tuple[int, int, int]:
    match = _SEMVER.match(str(text))
    if not match:
        raise SchemaError(f"schema {table!r}: version {text!r} is not semver X.Y.Z")
    return int(match[1]), int(match[2]), int(match[3])


def check_nesting(raw: Any, what: str = "schema") -> None:
    """Refuse a schema nested deeper than :data:`MAX_NESTING` levels, naming where, without recursion (a
    deep schema must not become a ``RecursionError`` in the loader, the validator or the codec)."""
    stack: list[tuple[Any, int, tuple[str, ...]]] = [(raw, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict):
            children: Any = ((str(k), v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            children = ((str(n), v) for n, v in enumerate(value))
        else:
            continue
        if depth > MAX_NESTING:
            shown = ".".join(path) if len(path) <= 8 else ".".join([*path[:4], "…", *path[-4:]])
            raise SchemaError(f"{what} nests more than {MAX_NESTING} levels of objects and arrays (at {shown}); "
                              f"flatten it or use $defs references")
        stack.extend((v, depth + 1, (*path, k)) for k, v in children if isinstance(v, dict | list | tuple))


@dataclass(frozen=True, slots=True)
class HnswSettings:
    """The schema setting ``hnsw``: the vector index's graph degree ``m`` and construction breadth
    ``ef_construction`` (used when the index is built), and ``ef_search``, the default search breadth (a
    search may pass its own ``ef``)."""

    m: int = 16
    ef_construction: int = 128
    ef_search: int = 64

    @property
    def build(self) -> tuple[int, int]:
        """What the built graph depends on: changing it means rebuilding the index."""
        return self.m, self.ef_construction

    def as_dict(self) -> dict[str, int]:
        return {"m": self.m, "ef_construction": self.ef_construction, "ef_search": self.ef_search}


#: the accepted range of each ``hnsw`` key (hnswlib works outside them, but uselessly or very slowly)
HNSW_RANGES = {"m": (2, 100), "ef_construction": (2, 10_000), "ef_search": (1, 10_000)}


def _hnsw_settings(value: Any, table: str) -> HnswSettings:
    """The ``hnsw`` setting: an object with any of ``m``, ``ef_construction``, ``ef_search`` (whole numbers
    in :data:`HNSW_RANGES`; ``ef_construction`` at least ``m``); the others keep their defaults."""
    if value is None:
        return HnswSettings()
    if not isinstance(value, dict):
        raise SchemaError(f"schema {table!r}: hnsw must be an object like {{m: 16, ef_construction: 128, "
                          f"ef_search: 64}}, not {type(value).__name__} {value!r:.60}")
    unknown = [str(k) for k in value if k not in HNSW_RANGES]
    if unknown:
        raise SchemaError(f"schema {table!r}: hnsw has no setting {unknown[0]!r} (settings: "
                          f"{', '.join(HNSW_RANGES)})")
    for key, number in value.items():
        low, high = HNSW_RANGES[key]
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise SchemaError(f"schema {table!r}: hnsw.{key} must be a whole number from {low:,} to {high:,}, "
                              f"got {number!r:.60}")
    settings = HnswSettings(**value)
    if settings.ef_construction < settings.m:
        raise SchemaError(f"schema {table!r}: hnsw.ef_construction ({settings.ef_construction}) must be at least "
                          f"hnsw.m ({settings.m})")
    return settings


def _merged_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """Top-level settings, overridden by a nested ``json_schema_extra`` object."""
    settings = {k: raw[k] for k in SETTING_KEYS if k in raw}
    nested = raw.get("json_schema_extra")
    if isinstance(nested, dict):
        settings.update({k: v for k, v in nested.items() if k in SETTING_KEYS})
    return settings


def _string_list(value: Any, what: str, table: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SchemaError(f"schema {table!r}: {what} must be a list of field names")
    return list(value)


def _additional_properties(raw: dict[str, Any], setting: Any, table: str) -> bool:
    """Whether rows may hold undeclared fields: the ``additional_properties`` setting, else JSON Schema's
    ``additionalProperties`` (anything but ``false`` allows them); the two must not contradict each other."""
    in_schema = allows_extra_fields(raw)
    if setting is None:
        return in_schema
    if not isinstance(setting, bool):
        raise SchemaError(f"schema {table!r}: additional_properties must be true or false, not "
                          f"{type(setting).__name__} {setting!r}")
    if setting and not in_schema:
        raise SchemaError(f"schema {table!r}: additional_properties is true but the JSON Schema sets "
                          f"additionalProperties: false; remove one of them")
    return setting


@dataclass
class TableSchema:
    """A table's JSON Schema and settings, with its compiled validator."""

    short_name: str
    fully_qualified_name: str
    version: str
    description: str
    category: str
    json_schema: dict[str, Any]
    key_field: str | None = None
    indexed_fields: tuple[str, ...] = ()
    embedding_fields: tuple[str, ...] = ()
    embedding_provider: str | None = None
    tools: list[Any] = field(default_factory=list)
    resources: list[Any] = field(default_factory=list)
    timestamp_fields: frozenset[str] = frozenset()
    defaults: dict[str, Any] = field(default_factory=dict)
    validator: Any = None
    #: rows may hold fields the schema does not declare (stored, queryable, exported in ``extra``); ``False``
    #: (``additional_properties: false``, or JSON Schema's ``additionalProperties: false``) refuses them
    additional_properties: bool = True
    #: vector index parameters (setting ``hnsw``; defaults when the schema does not set them)
    hnsw: HnswSettings = field(default_factory=HnswSettings)

    @property
    def properties(self) -> dict[str, Any]:
        return self.json_schema.get("properties", {})

    @property
    def version_tuple(self) -> tuple[int, int, int]:
        return parse_version(self.version, self.short_name)

    def settings(self) -> dict[str, Any]:
        """The resolved REM settings, as stored with the schema."""
        return {
            "short_name": self.short_name,
            "fully_qualified_name": self.fully_qualified_name,
            "version": self.version,
            "description": self.description,
            "category": self.category,
            "key_field": self.key_field,
            "indexed_fields": list(self.indexed_fields),
            "embedding_fields": list(self.embedding_fields),
            "embedding_provider": self.embedding_provider,
            "tools": self.tools,
            "resources": self.resources,
            "additional_properties": self.additional_properties,
            "hnsw": self.hnsw.as_dict(),
        }

    @classmethod
    def from_json_schema(cls, raw: dict[str, Any], name: str | None = None) -> TableSchema:
        """Resolve settings from their three placements (field level > nested > top level) and check them."""
        if not isinstance(raw, dict):
            raise SchemaError("a schema must be a JSON object")
        settings = _merged_settings(raw)
        title = raw.get("title")
        short_name = name or settings.get("short_name") or (snake_case(title) if isinstance(title, str) else None)
        if not short_name:
            raise SchemaError("schema has no short_name and no title to derive one from")
        if not isinstance(short_name, str) or not _SNAKE.match(short_name):
            raise SchemaError(f"schema short_name {short_name!r} must be snake_case (a-z, 0-9, _)")
        table = short_name
        check_nesting(raw, f"schema {table!r}")
        props = raw.get("properties", {})
        if not isinstance(props, dict):
            raise SchemaError(f"schema {table!r}: properties must be an object")
        clashes = [p for p in props if p in SYSTEM_FIELDS]
        if clashes:
            raise SchemaError(f"schema {table!r}: field {clashes[0]!r} is a system field "
                              f"({', '.join(SYSTEM_FIELDS)}) and cannot be declared")

        key_field = settings.get("key_field")
        if key_field is not None and not isinstance(key_field, str):
            raise SchemaError(f"schema {table!r}: key_field must be one field name (a string), not "
                              f"{type(key_field).__name__} {key_field!r}: a table has a single key field")
        indexed = _string_list(settings.get("indexed_fields"), "indexed_fields", table)
        embedded = _string_list(settings.get("embedding_fields"), "embedding_fields", table)
        provider = settings.get("embedding_provider")
        if provider is not None and not isinstance(provider, str):
            raise SchemaError(f"schema {table!r}: embedding_provider must be a provider spec string (e.g. "
                              f"'local:...'), not {type(provider).__name__} {provider!r}")
        for prop_name, prop in props.items():  # field-level settings win over model-level ones
            if not isinstance(prop, dict):
                continue
            if prop.get("key_field") is True:
                key_field = prop_name
            for flag, names in (("indexed", indexed), ("embedding", embedded)):
                if prop.get(flag) is True and prop_name not in names:
                    names.append(prop_name)
                elif prop.get(flag) is False and prop_name in names:
                    names.remove(prop_name)
            if isinstance(prop.get("embedding_provider"), str):
                provider = prop["embedding_provider"]

        for what, names in (("key_field", [key_field] if key_field else []),
                            ("indexed_fields", indexed), ("embedding_fields", embedded)):
            for fname in names:
                if fname not in props:
                    raise SchemaError(f"schema {table!r}: {what} names {fname!r}, which is not a property "
                                      f"(properties: {', '.join(props) or 'none'})")
        description = settings.get("description")
        if not isinstance(description, str) or not description.strip():
            raise SchemaError(f"schema {table!r}: description is required (it tells `rem ask` what the "
                              f"table holds)")
        category = settings.get("category", "user")
        if category not in CATEGORIES:
            raise SchemaError(f"schema {table!r}: category {category!r} must be one of {', '.join(CATEGORIES)}")
        version = str(settings.get("version", "1.0.0"))
        parse_version(version, table)
        fqn = settings.get("fully_qualified_name") or settings.get("name") or f"{category}.{short_name}"
        additional = _additional_properties(raw, settings.get("additional_properties"), table)
        hnsw = _hnsw_settings(settings.get("hnsw"), table)
        try:
            validator = jsonschema_rs.validator_for(raw, validate_formats=True)
        except (ValueError, jsonschema_rs.ReferencingError) as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SchemaError(f"schema {table!r} is not a valid JSON Schema: {first_line}") from None
        return cls(
            short_name=short_name,
            fully_qualified_name=str(fqn),
            version=version,
            description=description.strip(),
            category=category,
            json_schema=raw,
            key_field=key_field,
            indexed_fields=tuple(dict.fromkeys(indexed)),
            embedding_fields=tuple(dict.fromkeys(embedded)),
            embedding_provider=provider,
            tools=list(settings.get("tools") or []),
            resources=list(settings.get("resources") or []),
            timestamp_fields=frozenset(p for p, s in props.items() if type_of(s, raw).is_datetime),
            defaults={p: s["default"] for p, s in props.items() if isinstance(s, dict) and "default" in s},
            validator=validator,
            additional_properties=additional,
            hnsw=hnsw,
        )
