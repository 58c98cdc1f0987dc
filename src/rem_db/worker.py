"""A small thread-backed task queue for work that must not sit on the write path (SPEC §3): vector index
saves and loads, background embeddings, flushes."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

log = logging.getLogger("rem_db.worker")
_STOP = object()


class BackgroundWorker:
    """Runs submitted callables on ``threads`` daemon threads.

    ``wait_idle`` blocks until every submitted task has finished; errors are captured (and logged), not
    lost: ``errors`` lists them and each task's :class:`~concurrent.futures.Future` carries its own.
    """

    def __init__(self, threads: int = 1, name: str = "rem-worker") -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False
        self.errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True)
                         for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue ``fn(*args, **kwargs)``; returns a Future with its result or exception."""
        with self._idle:
            if self._closed:
                raise RuntimeError("the background worker is shut down")
            self._pending += 1
        future: Future[Any] = Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # captured for the caller, never kills the thread
                    log.error("background task %s failed: %s", getattr(fn, "__name__", fn), exc)
                    self.errors.append(exc)
                    future.set_exception(exc)
            with self._idle:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.notify_all()

    @property
    def pending(self) -> int:
        return self._pending

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no task is queued or running; ``False`` if ``timeout`` seconds passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Finish queued tasks, then stop the threads. Returns whether it drained in time."""
        with self._idle:
            if self._closed:
                return True
        drained = self.wait_idle(timeout)  # tasks may still queue follow-up tasks while draining
        with self._idle:
            self._closed = True
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)
        return drained
