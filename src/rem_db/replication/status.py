"""What ``rem replication status`` and ``rem replication wal-status`` report (SPEC §9), from the store and
the status files the serving and replicating processes keep in the database directory."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import orjson

from ..storage.store import Store
from .client import STATUS_FILE as REPLICA_STATUS
from .client import read_status
from .server import STATUS_FILE as SERVE_STATUS
from .target import read_promotion, read_role


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _serving(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = orjson.loads((path / SERVE_STATUS).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if _alive(data.get("pid")) else None


def _when(stamp: Any) -> str | None:
    if not isinstance(stamp, int | float):
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def replication_status(store: Store, path: Path) -> dict[str, Any]:
    """``mode`` (replica, primary or none), ``primary``, ``position``, ``lag_entries``, ``lag_ms``,
    ``state``, ``last_sync``; a replica's figures come from the process following its primary (``state``
    ``disconnected`` when none runs)."""
    role = read_role(store)
    position = store.wal_seq()
    if role is not None:
        status = read_status(path) or {}
        running = _alive(status.get("pid"))
        state = status.get("state", "disconnected") if running else "disconnected"
        primary_seq = int(status.get("primary_seq") or 0)
        return {"mode": "replica", "primary": role.primary, "replica_id": role.replica_id, "position": position,
                "primary_seq": primary_seq, "lag_entries": max(0, primary_seq - position),
                "lag_ms": float(status.get("lag_ms") or 0.0) if running else None, "state": state,
                "last_sync": _when(status.get("last_sync")), "error": status.get("error") if state == "error"
                else None}
    serving = _serving(path)
    out: dict[str, Any] = {"mode": "primary" if serving else "none", "primary": None, "position": position,
                           "lag_entries": 0, "lag_ms": 0.0, "state": "serving" if serving else "not serving",
                           "last_sync": None}
    if serving:
        out["address"] = serving.get("address")
        out["replicas"] = serving.get("replicas", [])
    promoted = read_promotion(store)
    if promoted:
        out["promoted"] = promoted
    return out


def wal_status(store: Store, path: Path) -> dict[str, Any]:
    """``sequence``, ``first_seq``, ``entries`` (records retained), ``bytes``, ``connected_replicas`` (of the
    server running on this directory, if any) and ``replicas``."""
    sequence = store.wal_seq()
    first = store.wal_first_seq() or 0
    serving = _serving(path)
    replicas = serving.get("replicas", []) if serving else []
    return {"sequence": sequence, "first_seq": first, "entries": sequence - first + 1 if first else 0,
            "bytes": store.wal_size_bytes(), "wal_enabled": store.wal_enabled,
            "serving": serving.get("address") if serving else None, "connected_replicas": len(replicas),
            "replicas": replicas}


__all__ = ["REPLICA_STATUS", "replication_status", "wal_status"]
