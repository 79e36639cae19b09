"""The Dask executor: ``--dask-local N`` starts a LocalCluster on this machine, ``--scheduler ADDRESS`` uses a
running cluster (``dask scheduler``; ``dask worker ADDRESS --nthreads 1`` on each machine).

Workers must have the kit installed and see the course folder at the same path (a shared file system), as
they read course.yml, the calibration and the notebooks themselves. Each worker keeps one Grader, built on
its first submission (``worker_task.grader_for``). Tasks are collected with ``as_completed``; the per-submission
timeout lives inside the task, since Dask has none, and retries are the coordinator's (one, as for the local pool).
A scheduler that goes away cancels every task in flight: that is ``ExecutorLost``, which stops the run and
charges no student an attempt.
Only a few tasks per worker are in flight at a time (see ``capacity``).
"""

from __future__ import annotations

import os
import time

from distributed.diagnostics.plugin import WorkerPlugin

from autograder.batch.class_run import ExecutorLost
from autograder.batch.worker_task import GradingSettings, grade_submission

CONNECT_TIMEOUT_S = 10
IN_FLIGHT_PER_THREAD = 2
THREADS_REFRESH_S = 30.0
# Seconds a cancelled task's client is given to say whether it lost its scheduler, and a lost one to close.
SCHEDULER_LOSS_GRACE_S = 5.0
LOST_CLOSE_TIMEOUT_S = 5
# Dask's own monitoring, which a grading cluster has no use for, and whose periodic wake-ups in every worker
# process and in the coordinator (which hosts the LocalCluster's scheduler) compete with grading for the cores.
QUIET_LOCAL_CLUSTER = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.gil.enabled": False,
                       "distributed.admin.system-monitor.interval": "2s", "distributed.admin.tick.interval": "500ms",
                       "distributed.scheduler.work-stealing": False, "distributed.worker.memory.monitor-interval": "1s"}


class WatchTheCoordinator(WorkerPlugin):
    """A worker plugin: ``worker_task.watch_the_coordinator`` in each worker, and in each one a nanny restarts."""

    name = "autograder-watch-the-coordinator"

    def setup(self, worker) -> None:
        from autograder.batch.worker_task import watch_the_coordinator

        watch_the_coordinator()


class DaskPool:
    def __init__(self, settings: GradingSettings, address: str | None = None, local_workers: int | None = None,
                 task=grade_submission):
        import dask
        from distributed import Client, LocalCluster, as_completed

        self.settings = settings
        self.task = task
        self._cluster = None
        self._results: dict = {}
        if address:
            self.description = f"Dask cluster at {address}"
            try:
                self._client = Client(address, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(f"the Dask scheduler at {address} did not answer within {CONNECT_TIMEOUT_S} s "
                                      f"({type(exc).__name__}); is `dask scheduler` running there?") from None
        else:
            self.description = f"Dask LocalCluster of {local_workers} worker processes"
            # A task that kills its worker is failed at once and retried by the coordinator, not by Dask three times;
            # and a worker holds only the task it runs, so that its death costs no other submission an attempt.
            # (Only where Dask queues the tasks at the scheduler: each task here is a group of its own, which Dask
            # assigns to a worker at once, so a task waiting behind a dying one on its worker dies with it.)
            # (A running cluster, --scheduler, keeps its own settings: Dask retries on other workers first.)
            dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0,
                             **QUIET_LOCAL_CLUSTER})
            self._cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0")
            self._client = Client(self._cluster)
            # Its workers are this process's children (through the nannies it hosts): each, and each one a nanny
            # restarts, ends itself and its jails if this process is killed outright.
            self._client.register_plugin(WatchTheCoordinator())
        self.address = address or self._cluster.scheduler_address
        # The LocalCluster's worker processes, whose jailed processes close() ends.
        self._worker_pids = set(self._client.run(os.getpid).values()) if self._cluster is not None else set()
        workers = self._client.nthreads()
        if not workers:
            self.close()
            raise ConnectionError(f"the Dask scheduler at {address} has no workers; start `dask worker {address} --nthreads 1`")
        self._threads = sum(workers.values())
        self._threads_checked = time.monotonic()
        # Results are fetched in the background as tasks finish (with_results), not by one blocking round trip
        # per submission from the coordinator's loop; errors come back as values, for the coordinator to retry.
        self._completed = as_completed(with_results=True, raise_errors=False)
        self._attempt = 0

    @property
    def capacity(self) -> int:
        """Submissions kept in flight: two per worker thread, so that each worker has its next one waiting at the
        scheduler, and the scheduler holds a few dozen tasks rather than the whole class. Re-read now and then: a
        cluster's workers may come and go."""
        if time.monotonic() - self._threads_checked > THREADS_REFRESH_S:
            try:
                self._threads = sum(self._client.nthreads().values()) or self._threads
            except (OSError, TimeoutError):  # CommClosedError is an OSError
                raise ExecutorLost(f"the scheduler at {self.address} went away; run the same command again to "
                                   "resume") from None
            self._threads_checked = time.monotonic()
        return IN_FLIGHT_PER_THREAD * self._threads

    def submit(self, student: str, path: str):
        self._attempt += 1
        future = self._client.submit(self.task, self.settings, student, path, pure=False,
                                     key=f"grade-{student}-{self._attempt}")
        self._completed.add(future)
        return future

    def finished(self, in_flight) -> set:
        batch = self._completed.next_batch(block=True)
        self._results.update(batch)
        return {future for future, _ in batch}

    def outcome(self, future) -> dict:
        result = self._results.pop(future)
        status = future.status
        future.release()
        if status == "error":
            _, exc, tb = result
            raise exc.with_traceback(tb)
        if status == "cancelled" or isinstance(result, BaseException):
            if self._scheduler_went_away():
                # Every task in flight is cancelled with it, through no fault of theirs: none is charged an attempt.
                raise ExecutorLost(f"the scheduler at {self.address} went away; run the same command again to resume")
            raise RuntimeError(f"Dask cancelled the grading ({type(result).__name__})")
        return result

    def _scheduler_went_away(self) -> bool:
        """Whether the client lost its scheduler: it leaves the "running" state (to reconnect, or closed) as it
        cancels the tasks in flight; a moment is allowed for that."""
        deadline = time.monotonic() + SCHEDULER_LOSS_GRACE_S
        while self._client.status == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        return self._client.status != "running"

    def close(self, cancel: bool = False) -> None:
        from dask.typing import no_default

        from autograder.isolation.jail import end_jails_of

        self._results.clear()
        lost = self._client.status != "running"
        # A lost scheduler is not waited for: the client would try to reconnect for the connect timeout.
        try:
            self._client.close(timeout=LOST_CLOSE_TIMEOUT_S if lost else no_default)
        except (TimeoutError, OSError):
            pass  # it had nothing left to say to a scheduler that is gone
        if self._cluster is not None:
            try:
                self._cluster.close(timeout=LOST_CLOSE_TIMEOUT_S if lost else None)
            except (TimeoutError, OSError):
                pass  # its nannies kill what is left of their workers as they close
            # The LocalCluster's workers are this machine's: whatever of their jails outlived them ends here.
            for pid in self._worker_pids:
                end_jails_of(pid)
