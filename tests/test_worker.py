"""The background worker (SPEC §3): submit, results, error capture, wait_idle with timeout, draining shutdown."""

from __future__ import annotations

import threading

import pytest

from rem_db.worker import BackgroundWorker


@pytest.fixture
def worker():
    w = BackgroundWorker()
    yield w
    w.shutdown(timeout=10)


def test_submit_returns_a_future_with_the_result(worker: BackgroundWorker) -> None:
    future = worker.submit(lambda a, b=0: a * 10 + b, 4, b=2)
    assert future.result(timeout=10) == 42
    assert worker.wait_idle(timeout=10)
    assert worker.pending == 0
    assert worker.errors == []


def test_tasks_run_in_submission_order(worker: BackgroundWorker) -> None:
    seen: list[int] = []
    futures = [worker.submit(seen.append, n) for n in range(50)]
    assert worker.wait_idle(timeout=10)
    assert seen == list(range(50))
    assert all(f.done() for f in futures)


def test_errors_are_captured_in_errors_and_the_future(worker: BackgroundWorker) -> None:
    def boom() -> None:
        raise ValueError("task exploded")

    failed = worker.submit(boom)
    after = worker.submit(lambda: "still running")
    assert after.result(timeout=10) == "still running"  # a failing task does not kill the worker
    with pytest.raises(ValueError, match="task exploded"):
        failed.result(timeout=10)
    assert len(worker.errors) == 1 and isinstance(worker.errors[0], ValueError)
    assert worker.wait_idle(timeout=10)


def test_wait_idle_times_out_while_a_task_blocks(worker: BackgroundWorker) -> None:
    gate = threading.Event()
    started = threading.Event()

    def blocked() -> str:
        started.set()
        gate.wait(30)
        return "released"

    future = worker.submit(blocked)
    assert started.wait(10)
    assert worker.wait_idle(timeout=0.05) is False
    assert worker.pending == 1 and not future.done()
    gate.set()
    assert worker.wait_idle(timeout=10) is True
    assert future.result() == "released"


def test_shutdown_drains_queued_tasks_then_refuses_new_ones() -> None:
    worker = BackgroundWorker()
    gate = threading.Event()
    done: list[int] = []
    worker.submit(gate.wait, 30)
    futures = [worker.submit(done.append, n) for n in range(20)]
    threading.Thread(target=gate.set).start()
    assert worker.shutdown(timeout=30) is True
    assert done == list(range(20))
    assert all(f.done() for f in futures)
    with pytest.raises(RuntimeError):
        worker.submit(done.append, 99)
    assert worker.shutdown() is True  # idempotent


def test_several_threads_share_the_queue() -> None:
    worker = BackgroundWorker(threads=3)
    barrier = threading.Barrier(3, timeout=10)
    futures = [worker.submit(barrier.wait) for _ in range(3)]  # only completes if 3 run at once
    assert sorted(f.result(timeout=15) for f in futures) == [0, 1, 2]
    assert worker.shutdown(timeout=10)


def test_database_exposes_its_worker(db) -> None:
    future = db.worker.submit(lambda: db.count("resources"))
    assert future.result(timeout=10) == 0
    assert db.wait_idle(timeout=10) is True
