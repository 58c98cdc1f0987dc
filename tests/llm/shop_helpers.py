"""The example shop (examples/shop) for the ask tests: loaded once per test module through its own loader."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def shop_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shop_load", ROOT / "examples" / "shop" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_shop(path: Path) -> Path:
    """A shop database at ``path`` (closed again); returns the path."""
    with shop_module().build(path):
        pass
    return path
