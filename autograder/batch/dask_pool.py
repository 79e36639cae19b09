"""The Dask executor: ``--dask-local N`` starts a LocalCluster on this machine, ``--scheduler ADDRESS`` uses a
running cluster (``dask scheduler``; ``dask worker ADDRESS --nthreads 1`` on each machine).

Workers must have the kit installed and see the course folder at the same path (a shared file system), as
they read course.yml, the calibration and the notebooks themselves. Each worker keeps one Grader, built on
its first submission (``worker_task.grader_for``). Tasks are collected with ``as_completed``; the per-submission
timeout lives inside the task, since Dask has none, and retries are the coordinator's (one, as for the local pool).
"""

from __future__ import annotations

from autograder.batch.worker_task import GradingSettings, grade_submission

CONNECT_TIMEOUT_S = 10


class DaskPool:
    def __init__(self, settings: GradingSettings, address: str | None = None, local_workers: int | None = None,
                 task=grade_submission):
        import dask
        from distributed import Client, LocalCluster, as_completed

        self.settings = settings
        self.task = task
        self._cluster = None
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
            # (A running cluster, --scheduler, keeps its own settings: Dask retries on other workers first.)
            dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0})
            self._cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=":0")
            self._client = Client(self._cluster)
        workers = self._client.nthreads()
        if not workers:
            self.close()
            raise ConnectionError(f"the Dask scheduler at {address} has no workers; start `dask worker {address} --nthreads 1`")
        # Everything at once: the scheduler queues the tasks and feeds each worker as it frees up, without
        # a round trip to the coordinator in between.
        self.capacity = 1_000_000
        self._completed = as_completed()
        self._attempt = 0

    def submit(self, student: str, path: str):
        self._attempt += 1
        future = self._client.submit(self.task, self.settings, student, path, pure=False,
                                     key=f"grade-{student}-{self._attempt}")
        self._completed.add(future)
        return future

    def finished(self, in_flight: set) -> set:
        return set(self._completed.next_batch(block=True))

    def outcome(self, future) -> dict:
        try:
            return future.result()
        finally:
            future.release()

    def close(self, cancel: bool = False) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
