"""Here: the Dask cluster grading runs on, and the wait for workers whose sandbox holds.

A LocalCluster of worker processes on this machine, or any existing scheduler. Every worker
runs the sandbox self-test when it joins (`worker.SandboxSelfTest`); submissions go only to
workers that passed it.
"""

import logging
import os
import sys
import time
from typing import Any, TextIO


class GradingError(Exception):
    """Grading cannot start: the message says why and what to do."""


class Cluster:
    """The Dask cluster grading runs on, started (or connected to) when first needed: a
    LocalCluster of `workers` processes, or the cluster at `scheduler`."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.n_workers = workers or os.cpu_count() or 1
        self.scheduler = scheduler
        self.workers: list[str] = []
        self._local: Any = None
        self._client: Any = None
        self._config: Any = None

    def client(self, stream: TextIO = sys.stderr) -> Any:
        """The `distributed.Client`, once at least one worker's sandbox self-test passed."""
        if self._client is None:
            import dask
            from distributed import Client, LocalCluster

            from autograder.grading.cohort.attempts import local_cluster_config
            from autograder.grading.cohort.worker import SELF_TEST_TIMEOUT, SandboxSelfTest

            if self.scheduler:
                stream.write(f"Connecting to the Dask scheduler at {self.scheduler}\n")
                self._client = Client(self.scheduler, timeout="60s")
            else:
                stream.write(f"Starting {self.n_workers} local worker process(es); each runs "
                             f"the sandbox self-test first\n")
                self._config = dask.config.set(local_cluster_config(SELF_TEST_TIMEOUT))
                self._local = LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                           processes=True, dashboard_address=None,
                                           silence_logs=logging.ERROR, host="127.0.0.1")
                self._client = Client(self._local)
            self._client.register_plugin(SandboxSelfTest())
            self.workers = _wait_for_sandboxed_workers(self._client, stream, SELF_TEST_TIMEOUT)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._local is not None:
            self._local.close()
        if self._config is not None:
            self._config.__exit__(None, None, None)
        self._client = self._local = self._config = None

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wait_for_sandboxed_workers(client: Any, stream: TextIO, timeout: float) -> list[str]:
    """Workers whose self-test passed; tells which refused work. Waits for at least one."""
    from autograder.grading.cohort.worker import self_test_result

    deadline = time.monotonic() + timeout
    told = set()
    while True:
        results = client.run(self_test_result)
        for address, result in sorted(results.items()):
            if result is not None and not result[0] and address not in told:
                told.add(address)
                tail = "\n    ".join(result[1].strip().splitlines()[-6:])
                stream.write(f"worker {address} refuses work: the sandbox self-test failed "
                             f"there:\n    {tail}\n")
        passed = sorted(a for a, r in results.items() if r is not None and r[0])
        pending = [a for a, r in results.items() if r is None]
        if passed and not pending:
            return passed
        if passed and time.monotonic() > deadline:
            return passed
        if time.monotonic() > deadline or (results and not pending and not passed):
            raise GradingError("no worker passed the sandbox self-test (`python -m autograder "
                               "doctor` on a worker says why): nothing was graded")
        time.sleep(0.5)
