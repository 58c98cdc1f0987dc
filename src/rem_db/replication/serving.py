"""``rem serve`` beside the process that writes a directory: a RocksDB secondary instance follows the writer
(``catch_up()`` every ``poll_interval``) and the replication server streams what it sees (docs/replication.md).
The writer needs no change: it keeps the directory read-write; this process only reads its files."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..config import Settings
from ..errors import NotFoundError
from ..storage.store import Store
from .feed import DEFAULT_POLL_INTERVAL, WalFeed
from .security import server_credentials
from .server import ReplicationServer, start_server


def serve_beside(path: Path, settings: Settings, host: str, port: int, *, token: str | None = None,
                 tls_cert: str | os.PathLike[str] | None = None, tls_key: str | os.PathLike[str] | None = None,
                 poll_interval: float = DEFAULT_POLL_INTERVAL) -> ReplicationServer:
    """Serve the directory ``path`` (held read-write by another process, or by none) over gRPC."""
    from .snapshot import make_snapshot

    server_credentials(host, token, tls_cert, tls_key)  # a refused address fails before anything opens
    if not (path / "CURRENT").exists():
        raise NotFoundError(f"no database at {path} (run `rem init` first)")
    work = Path(tempfile.mkdtemp(prefix="rem-secondary-"))
    store: Store | None = None
    feed: WalFeed | None = None
    try:
        store = Store(path, settings=settings, secondary=work)
        feed = WalFeed(store, poll_interval)
        opened, follower = store, feed

        def stop() -> None:
            opened.close()
            shutil.rmtree(work, ignore_errors=True)

        return start_server(follower, host, port, token=token, tls_cert=tls_cert, tls_key=tls_key,
                            snapshot=lambda dest: make_snapshot(opened, None, dest), status_dir=path, on_stop=stop)
    except BaseException:
        if feed is not None:
            feed.close()
        if store is not None:
            store.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
