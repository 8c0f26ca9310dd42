"""Here: the Dask cluster grading runs on, and the wait for workers whose sandbox holds.

A LocalCluster of worker processes on this machine, or any existing scheduler. Every worker
runs the sandbox self-test when it joins (`worker.SandboxSelfTest`: the host's kept proof and an
empty sandbox started, then the imports grading needs); submissions go only to workers that
passed it. `start` begins all that in the background, every worker at once, so that it overlaps
the grading machine's own work (reading the gradebook and the submissions); `client` waits for
it.
"""

import logging
import os
import sys
import threading
import time
from typing import Any, TextIO


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: a batch system's allocation)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:          # not Linux
        return os.cpu_count() or 1


def default_workers(cores: int | None = None) -> int:
    """Local workers when the command is not told: one per usable core.

    Each notebook runs two sandboxed processes at once (the student's kernel and the trusted
    verdict, each held to SandboxLimits.cpu_cores), so workers = cores could ask for twice the
    cores. Measured, one worker keeps about one core busy (activations, 32 notebooks: 39.9
    CPU-seconds in 38.4 s): the verdict runs beside the kernel for a fraction of its time, and
    the kernel waits on the grader in between. On two cores, 1, 2 and 3 workers took 38.4, 29.0
    and 29.7 s: one per core is the fastest, and more only queue (Keras notebooks use more than
    a core each, and their judges' budgets count CPU time, so a busy machine slows them but
    changes no verdict)."""
    return max(1, cores if cores is not None else usable_cores())


class GradingError(Exception):
    """Grading cannot start: the message says why and what to do."""


class Cluster:
    """The Dask cluster grading runs on, started (or connected to) when first needed: a
    LocalCluster of `workers` processes, or the cluster at `scheduler`."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.n_workers = workers or default_workers()
        self.scheduler = scheduler
        self.workers: list[str] = []
        self._local: Any = None
        self._client: Any = None
        self._config: Any = None
        self._starting: threading.Thread | None = None
        self._failed: BaseException | None = None

    def start(self, stream: TextIO = sys.stderr) -> None:
        """Begin starting (or connecting to) the cluster in the background; `client` waits."""
        if self._starting is None and self._client is None:
            self._starting = threading.Thread(target=self._start, args=(stream,),
                                              name="autograder-cluster-start", daemon=True)
            self._starting.start()

    def _start(self, stream: TextIO) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster

            from autograder.grading.cohort.attempts import local_cluster_config
            from autograder.grading.cohort.worker import SELF_TEST_TIMEOUT, SandboxSelfTest

            if self.scheduler:
                stream.write(f"Connecting to the Dask scheduler at {self.scheduler}\n")
                client = Client(self.scheduler, timeout="60s")
            else:
                stream.write(f"Starting {self.n_workers} local worker process(es); each checks "
                             f"its sandbox first\n")
                self._config = dask.config.set(local_cluster_config(SELF_TEST_TIMEOUT))
                _preload_forkserver()
                self._local = LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                           processes=True, dashboard_address=None,
                                           silence_logs=logging.ERROR, host="127.0.0.1")
                client = Client(self._local)
            # Every worker runs it as it joins, all at once, while this thread waits.
            client.register_plugin(SandboxSelfTest())
            self._client = client
        except BaseException as exc:       # raised again where the client is wanted
            self._failed = exc

    def client(self, stream: TextIO = sys.stderr) -> Any:
        """The `distributed.Client`, once at least one worker's sandbox self-test passed."""
        if not self.workers:
            from autograder.grading.cohort.worker import SELF_TEST_TIMEOUT

            self.start(stream)
            assert self._starting is not None
            self._starting.join()
            if self._failed is not None:
                raise self._failed
            self.workers = _wait_for_sandboxed_workers(self._client, stream, SELF_TEST_TIMEOUT)
        return self._client

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
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


def _preload_forkserver() -> None:
    """Local workers start from a forkserver that has imported Dask, the worker's module and
    what grading imports (worker.GRADING_MODULES) once, instead of once per worker (and again by
    a worker the nanny restarts). Set before Dask first asks for its multiprocessing context,
    which then keeps it."""
    import dask
    from distributed.utils import get_mp_context

    from autograder.grading.cohort.worker import GRADING_MODULES

    if dask.config.get("distributed.worker.multiprocessing-method") != "forkserver":
        return
    get_mp_context().set_forkserver_preload(
        ["distributed", "autograder.grading.cohort.worker", *GRADING_MODULES])


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
