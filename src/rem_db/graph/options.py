"""Checks of the graph API's arguments: depth, direction, relation filter, strategy and limit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import ValidationError

MAX_DEPTH = 10
DIRECTIONS = ("out", "in", "both")
STRATEGIES = ("bfs", "dfs")
#: The direction a search from the other end walks in (shortest path's backward side).
OPPOSITE = {"out": "in", "in": "out", "both": "both"}


def check_depth(depth: Any, what: str = "depth") -> int:
    """An int from 1 to 10 (SPEC §5: TRAVERSE depth 1–10)."""
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise ValidationError(f"{what} must be an integer from 1 to {MAX_DEPTH}, got {depth!r}")
    if not 1 <= depth <= MAX_DEPTH:
        raise ValidationError(f"{what} must be from 1 to {MAX_DEPTH}, got {depth}")
    return depth


def check_direction(direction: Any) -> str:
    if direction not in DIRECTIONS:
        raise ValidationError(f"unknown direction {direction!r} (use one of: {', '.join(DIRECTIONS)})")
    return str(direction)


def check_strategy(strategy: Any) -> str:
    if strategy not in STRATEGIES:
        raise ValidationError(f"unknown traversal strategy {strategy!r} (use one of: {', '.join(STRATEGIES)})")
    return str(strategy)


def check_limit(limit: Any) -> int | None:
    """``None`` (no limit) or an int >= 0."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValidationError(f"limit must be a non-negative integer or None, got {limit!r}")
    return limit


def check_rel_type(rel_type: Any, what: str = "rel_type") -> str:
    if not isinstance(rel_type, str) or not rel_type:
        raise ValidationError(f"{what} must be a non-empty string, got {rel_type!r}")
    return rel_type


def rel_filter(rel_type: str | Iterable[str] | None) -> list[str] | None:
    """``None`` (every relation), or the relation types to follow (a string or a non-empty list of them),
    without duplicates and in the order given. Case and every character are kept."""
    if rel_type is None:
        return None
    if isinstance(rel_type, str):
        return [check_rel_type(rel_type)]
    if not isinstance(rel_type, list | tuple | set | frozenset):
        raise ValidationError(f"rel_type must be a string, a list of strings or None, got {rel_type!r}")
    rels = [check_rel_type(r) for r in rel_type]
    if not rels:
        raise ValidationError("rel_type is an empty list: give None to follow every relation type")
    return list(dict.fromkeys(rels))
