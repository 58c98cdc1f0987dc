"""The seams of docs/architecture.md hold: no import cycles, RocksDB only in storage/, no service-locator ``db``
parameters, the environment read in one place. (Layer order itself is checked by import-linter in
``make lint``.)"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[1] / "src" / "rem_db"


def _modules() -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(SRC)), ast.parse(path.read_text(), str(path))) for path in SRC.rglob("*.py")]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.find_modules_directly_imported_by(node):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_between_modules() -> None:
    graph = grimp.build_graph("rem_db", exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_only_storage_imports_rocksdict() -> None:
    graph = grimp.build_graph("rem_db", include_external_packages=True)
    importers = {m for m in graph.find_modules_that_directly_import("rocksdict")}
    assert importers and all(m.startswith("rem_db.storage.") for m in importers), sorted(importers)


def test_no_function_takes_an_untyped_db() -> None:
    """Areas get typed collaborators from the composition root (core.py), never ``db: Any``."""
    offenders = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for arg in [*node.args.args, *node.args.kwonlyargs]:
                    if arg.arg == "db" and (arg.annotation is None or ast.unparse(arg.annotation) == "Any"):
                        offenders.append(f"{name}:{node.lineno} {node.name}")
    assert offenders == []


def test_only_config_reads_the_environment() -> None:
    offenders = []
    for name, tree in _modules():
        if name == "config.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def test_backends_are_reached_through_their_registries() -> None:
    """Backend modules (ANN indexes, document readers, embedding providers) are imported only by their
    registry's list of built-ins, so a new backend is one module plus one registration line."""
    graph = grimp.build_graph("rem_db", exclude_type_checking_imports=True)
    for backend in ("rem_db.index.hnsw", "rem_db.embeddings.openai", "rem_db.ingest.readers.pdf",
                    "rem_db.ingest.readers.xlsx"):
        assert graph.find_modules_that_directly_import(backend) == set(), backend
    # readers share text helpers with each other, never with the rest of the package
    for reader in ("docx", "html", "markdown"):
        importers = graph.find_modules_that_directly_import(f"rem_db.ingest.readers.{reader}")
        assert all(m.startswith("rem_db.ingest.readers.") for m in importers), importers
