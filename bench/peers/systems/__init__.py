"""One module per system under test, each with a ``System`` class following :class:`base.System`."""

NAMES = ("rem", "chroma", "lancedb", "qdrant", "sqlite_vec")
