"""Vector and hybrid search over the embedded tables (SPEC §6): :class:`~.engine.SearchEngine`."""
