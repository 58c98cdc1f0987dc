"""The query package's seams: no import circle among its modules, and it reaches the rest of the database only
through its ports (rem_db.query.ports) — never RocksDB, never the Database facade."""

from __future__ import annotations

import grimp
import pytest

PACKAGE = "rem_db.query"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("rem_db", include_external_packages=True, exclude_type_checking_imports=True)


def _query_modules(graph: grimp.ImportGraph) -> set[str]:
    return {m for m in graph.modules if m == PACKAGE or m.startswith(PACKAGE + ".")}


def _circle(graph: grimp.ImportGraph, modules: set[str]) -> list[str] | None:
    """One import circle among ``modules`` (as the path that closes it), or ``None``."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for other in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if other in on_path:
                return [*path[path.index(other):], other]
            if other not in done:
                found = visit(other)
                if found is not None:
                    return found
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in sorted(modules):
        if module not in done:
            found = visit(module)
            if found is not None:
                return found
    return None


def test_the_query_modules_import_each_other_in_one_direction(graph: grimp.ImportGraph) -> None:
    modules = _query_modules(graph)
    assert len(modules) > 10
    assert _circle(graph, modules) is None


def test_the_query_package_touches_neither_rocksdb_nor_the_database(graph: grimp.ImportGraph) -> None:
    forbidden = {"rocksdict", "rem_db.database", "rem_db.core"}
    offenders = sorted(f"{m} -> {target}" for m in _query_modules(graph)
                       for target in graph.find_modules_directly_imported_by(m) & forbidden)
    assert offenders == []
