"""The built-in offline planner (provider ``offline``): rules over the schemas, the key index and the edge types,
no model, deterministic (docs/ask.md)."""

from __future__ import annotations

from ...config import Settings
from ..planner import register_planner
from .planner import OfflinePlanner

__all__ = ["OfflinePlanner"]


def create(model: str, settings: Settings) -> OfflinePlanner:
    """The offline planner (``offline`` or ``offline:<anything>``; the model part is ignored)."""
    return OfflinePlanner()


register_planner("offline", create)
