"""Turn what a user gives into a JSON Schema dict: a Pydantic model, a dict, a JSON/YAML file or
``module:Class``."""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
from pathlib import Path
from typing import Any

from ..errors import SchemaError
from .model import MAX_NESTING, check_nesting


def _too_deep(what: str) -> str:
    return f"{what} nests too deeply to read (a schema may have at most {MAX_NESTING} levels of objects and arrays)"


def _from_model(model: Any) -> dict[str, Any]:
    return model.model_json_schema()


def _is_model_class(obj: Any) -> bool:
    return isinstance(obj, type) and hasattr(obj, "model_json_schema")


def load_file(path: Path) -> dict[str, Any]:
    """Read a schema from a ``.json``, ``.yaml`` or ``.yml`` file; errors name the file and position."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(f"schema file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL character in the name
        raise SchemaError(f"cannot read schema file {str(path)[:200]!r}: {exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # only YAML files need it

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SchemaError(f"schema file {path} is not valid YAML: {exc}") from None
        except RecursionError:  # the YAML composer recurses per level
            raise SchemaError(_too_deep(f"schema file {path}")) from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"schema file {path} is not valid JSON: {exc.msg} at line {exc.lineno} "
                              f"column {exc.colno}") from None
        except RecursionError:  # the JSON decoder recurses per level
            raise SchemaError(_too_deep(f"schema file {path}")) from None
    if not isinstance(data, dict):
        raise SchemaError(f"schema file {path} must hold a JSON object, not {type(data).__name__}")
    check_keys(data, f"schema file {path}")
    return data


def check_keys(data: Any, what: str) -> None:
    """Refuse a key that is not text anywhere in a schema (JSON has none; a Python dict or a YAML file may have
    ``1:`` or ``null:``), naming the key and where it is."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    where = f" under {path!r}" if path else ""
                    raise SchemaError(f"{what}: the key {_shown(key)}{where} is not text (names in a schema are "
                                      f"strings)")
                stack.append((value, f"{path}.{key}" if path else key))
        elif isinstance(node, list | tuple):
            stack.extend((value, f"{path}[{i}]") for i, value in enumerate(node))


def _shown(value: Any) -> str:
    try:
        return f"{value!r}"[:100]
    except Exception:  # a value whose repr fails is still named
        return f"of type {type(value).__name__}"


def _is_file(path: Path) -> bool:
    """Whether a path names an existing file; a name no file can have (too long, a NUL character) names none."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def _from_import(spec: str) -> dict[str, Any]:
    module_name, _, attr = spec.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except Exception as exc:  # the user's module may raise anything while it is imported
        raise SchemaError(f"cannot import schema model {spec[:200]!r}: {type(exc).__name__}: {exc}") from None
    if not _is_model_class(obj):
        raise SchemaError(f"{spec[:200]!r} is not a Pydantic model class")
    return _from_model(obj)


def load_schema_source(source: Any) -> dict[str, Any]:
    """Accept a Pydantic model class or instance, a dict, a path to a JSON/YAML file, or ``module:Class``."""
    if _is_model_class(source):
        return _from_model(source)
    if hasattr(source, "model_json_schema") and not isinstance(source, dict):
        return _from_model(type(source))
    if isinstance(source, dict):
        title = source.get("short_name") or source.get("title")
        what = f"schema {title!r}" if isinstance(title, str) else "schema"
        check_nesting(source, what)  # before deepcopy
        check_keys(source, what)
        return copy.deepcopy(source)
    if isinstance(source, Path):
        return load_file(source)
    if isinstance(source, str):
        path = Path(source)
        with contextlib.suppress(RuntimeError):  # a ~user that does not exist stays as written
            path = path.expanduser()
        if path.suffix.lower() in (".json", ".yaml", ".yml") or _is_file(path):
            return load_file(path)
        if ":" in source:
            return _from_import(source)
        raise SchemaError(f"schema source {source[:200]!r} is neither a file nor module:Class")
    raise SchemaError(f"cannot register a schema from {type(source).__name__}")
