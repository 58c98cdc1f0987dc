"""Turn what a user gives into a JSON Schema dict: a Pydantic model, a dict, a JSON/YAML file or
``module:Class``."""

from __future__ import annotations

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
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read schema file {path}: {exc}") from None
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
    return data


def _from_import(spec: str) -> dict[str, Any]:
    module_name, _, attr = spec.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SchemaError(f"cannot import schema model {spec!r}: {exc}") from None
    if not _is_model_class(obj):
        raise SchemaError(f"{spec!r} is not a Pydantic model class")
    return _from_model(obj)


def load_schema_source(source: Any) -> dict[str, Any]:
    """Accept a Pydantic model class or instance, a dict, a path to a JSON/YAML file, or ``module:Class``."""
    if _is_model_class(source):
        return _from_model(source)
    if hasattr(source, "model_json_schema") and not isinstance(source, dict):
        return _from_model(type(source))
    if isinstance(source, dict):
        title = source.get("short_name") or source.get("title")
        check_nesting(source, f"schema {title!r}" if isinstance(title, str) else "schema")  # before deepcopy
        return copy.deepcopy(source)
    if isinstance(source, Path):
        return load_file(source)
    if isinstance(source, str):
        path = Path(source).expanduser()
        if path.suffix.lower() in (".json", ".yaml", ".yml") or path.exists():
            return load_file(path)
        if ":" in source:
            return _from_import(source)
        raise SchemaError(f"schema source {source!r} is neither a file nor module:Class")
    raise SchemaError(f"cannot register a schema from {type(source).__name__}")
