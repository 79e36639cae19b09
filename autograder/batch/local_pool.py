"""The default executor: worker processes on this machine, nothing to start.

Each slot is a ``ProcessPoolExecutor`` with one worker, started with ``spawn`` (TensorFlow does not
survive a fork after it was imported) and an initializer that builds the worker's Grader once. One
pool per slot rather than one shared pool because a shared pool breaks as a whole when one worker dies
(``BrokenProcessPool`` for every submission in flight); here only the dead worker's submission fails,
and its slot gets a fresh worker. A worker that dies or is replaced has its jailed processes ended through their
cgroups (``jail.end_jails_of``); a worker whose coordinator died ends them itself (``worker_task``).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from autograder.batch.worker_task import GradingSettings, grade_submission, warm_up


class WorkerDied(RuntimeError):
    """The worker process grading a submission ended without a result."""


class LocalPool:
    description = "local worker processes"

    def __init__(self, workers: int, settings: GradingSettings, task=grade_submission, initializer=warm_up):
        self.capacity = workers
        self.settings = settings
        self.task = task
        self.initializer = initializer
        self._context = multiprocessing.get_context("spawn")
        self._slots = [self._new_slot() for _ in range(workers)]
        self._slot_of: dict[Future, int] = {}

    def _new_slot(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=self._context, initializer=self.initializer,
                                   initargs=(self.settings,))

    def submit(self, student: str, path: str) -> Future:
        busy = set(self._slot_of.values())
        slot = next(i for i in range(len(self._slots)) if i not in busy)
        future = self._slots[slot].submit(self.task, self.settings, student, path)
        self._slot_of[future] = slot
        return future

    def finished(self, in_flight: set) -> set:
        """Wait until at least one of ``in_flight`` is done; return those that are."""
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        return done

    def outcome(self, future: Future) -> dict:
        """The task's result; raises WorkerDied or the task's own error. A slot whose worker died or timed
        out (a grading thread may still be running in it) gets a fresh worker."""
        slot = self._slot_of.pop(future)
        try:
            return future.result()
        except BrokenProcessPool:
            self._replace(slot)
            raise WorkerDied("the worker process died while grading (killed, or out of memory)") from None
        except TimeoutError:
            self._replace(slot)
            raise

    def _replace(self, slot: int) -> None:
        old = self._slots[slot]
        # A worker left with a stuck grading thread would keep its CPU: end it, not only its pool.
        _end_workers(old)
        old.shutdown(wait=False, cancel_futures=True)
        self._slots[slot] = self._new_slot()

    def close(self, cancel: bool = False) -> None:
        for slot in self._slots:
            if cancel:
                _end_workers(slot)
            slot.shutdown(wait=not cancel, cancel_futures=True)


def _end_workers(slot: ProcessPoolExecutor) -> None:
    """Kill the slot's worker, then every jailed process it started, through their cgroups: a student's process
    left its process group long ago, and one that ignores its parent's death would outlive the worker."""
    from autograder.isolation.jail import end_jails_of

    for process in list(getattr(slot, "_processes", {}).values()):
        process.kill()
        process.join(timeout=10)
        end_jails_of(process.pid)


def local_pool_factory(config, settings: GradingSettings, workers: int | None = None):
    """What ``grade_class`` calls to start the default executor: ``workers`` processes (None: as many as fit
    this machine), started only if something is left to grade."""
    from autograder.batch.worker_count import default_workers

    count = workers or default_workers(config)
    return lambda: LocalPool(count, settings)
