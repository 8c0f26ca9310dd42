"""Grading a cohort survives any one submission: each submission's grading attempts on the
Dask cluster, and the rule that stops a submission whose grading kills its worker.

A student's notebook can kill the worker process grading it (flooding the machine's memory until
the kernel's OOM killer picks the worker, say). Three things make the cohort survive that:

- The assignment's bundle is a task (`_same`, its argument kept by the scheduler), not scattered
  data: when every worker holding it dies, the scheduler computes it again. Scattered data has no
  recipe, so losing it cancelled every submission still waiting (issue 18).
- A submission whose grading was running when its worker died unexpectedly is graded once more,
  and after a second such death it is not graded again: its result says why, and the run records
  it as failed. The command keeps this count itself, on the scheduler's event log, rather than
  relying on Dask's `distributed.scheduler.allowed-failures`: that counts every submission
  queued on a worker that dies, not only the one running there (with resources, a worker holds
  many), and an existing cluster sets it as it likes. The rule is the same on a LocalCluster and
  on any scheduler.
- A submission that Dask gives up on anyway (KilledWorker: it was queued or running on more
  than allowed-failures workers that died) is submitted again under a new key; the count above
  carries over, so a killer still gets two gradings at most.

How the count is kept: before grading, `attempt` logs a start event (the worker, the task's key)
on a topic of its own (one per submission and run; the scheduler stamps its time). A start
counts as a death when the scheduler's events of that worker hold an unexpected
`remove-worker` after it with the key still processing (an expected removal, a retired worker,
does not count). The scheduler forgets a removed worker's events after
`distributed.scheduler.events-cleanup-delay` (1 h by default), so each attempt writes the deaths
it found onto the submission's topic, which is kept as long as the scheduler runs (about 1 KB per
submission). A death is thus lost only if no attempt of that submission starts within that delay
of it; the submission then gets one more grading (one more dead worker) before it stops. (On the
LocalCluster the command starts, the scheduler keeps them all.)
"""

import uuid
from collections.abc import Callable, Iterator
from typing import Any

KILLS = 2                 # gradings of one submission that may end with their worker's death
RESUBMISSIONS = 10        # times Dask may give up on one submission before the run does


def local_cluster_config(self_test_timeout: float) -> dict[str, str]:
    """Dask settings for the LocalCluster the command starts, in force while it runs.

    A worker killed by the notebook it grades is started again by its nanny, and offers work
    once its sandbox self-test passed. Dask closes a nanny for good when no worker of its name
    is back `lost-worker-timeout` (15 s) after one was lost: a worker killed twice in a row
    (restart and self-test take about as long) could be caught between two lives, leaving
    nothing to grade on and the command waiting forever. Nannies are never closed that way here,
    a dead worker's events are kept while the command runs (see above), and submissions that no
    worker can take for longer than a restart and a self-test may last (every worker's self-test
    failed) fail instead of waiting forever.

    Workers are forked from a forkserver that imported what grading needs once
    (cluster._preload_forkserver), rather than spawned as fresh interpreters that each import
    it, a worker restarted after a notebook killed it too."""
    return {"distributed.worker.multiprocessing-method": "forkserver",
            "distributed.deploy.lost-worker-timeout": "3650d",
            "distributed.scheduler.events-cleanup-delay": "3650d",
            "distributed.scheduler.no-workers-timeout": f"{self_test_timeout + 60}s"}


def _same(value: Any) -> Any:
    """A task that returns its argument: the scheduler keeps the argument to compute it again."""
    return value


def attempt(topic: str, grade: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """On a worker: `grade(*args)` (a `WorkerResult.to_json()`), unless gradings of this
    submission killed KILLS workers already; then a failed result saying so, without grading."""
    from distributed import get_client, get_worker

    from autograder.grading.cohort.worker import WorkerResult

    client, worker = get_client(), get_worker()
    deaths = _deaths(client, topic)
    if len(deaths) >= KILLS:
        where = " and ".join(sorted({w for w in deaths.values()}))
        why = (f"its grading killed the worker twice (on {where}): not graded a third time; "
               f"the notebook may exhaust the grader's memory, see the workers' logs")
        return WorkerResult(ok=False, files={}, error=why, worker=worker.address,
                            killed=sorted(deaths.values())).to_json()
    client.log_event(topic, {"start": worker.address, "key": worker.get_current_task(),
                             "id": uuid.uuid4().hex})
    return grade(*args)


def _deaths(client: Any, topic: str) -> dict[str, str]:
    """{start id: worker} of this submission's gradings that ended with their worker's death."""
    events = client.get_events(topic)
    deaths = {msg["death"]: msg["worker"] for _, msg in events if "death" in msg}
    for started, msg in events:
        if "start" not in msg or msg["id"] in deaths:
            continue
        for when, event in client.get_events(msg["start"]):
            if (when >= started and event.get("action") == "remove-worker"
                    and not event.get("expected")
                    and msg["key"] in event.get("processing-tasks", ())):
                deaths[msg["id"]] = msg["start"]
                client.log_event(topic, {"death": msg["id"], "worker": msg["start"]})
                break
    return deaths


class Lost(Exception):
    """A submission Dask gave up on too often: the cluster keeps losing workers."""


def grade_all(client: Any, bundle: Any, jobs: list[tuple[str, str, dict[str, bytes]]],
              grade: Callable[..., dict[str, Any]],
              **options: Any) -> Iterator[tuple[str, str, dict[str, Any] | Exception]]:
    """Grade each (student, digest, files) of `jobs` on the cluster with `grade(bundle, student,
    files)`; yield (student, digest, result) as each ends, where result is what `grade` returned
    or the exception the grading raised. `options` go to `Client.submit` (resources)."""
    from distributed import KilledWorker, as_completed

    run = uuid.uuid4().hex[:12]
    bundle_key = f"bundle-{bundle.chapter}-{run}"
    state = {"bundle": client.submit(_same, bundle, key=bundle_key, pure=False)}
    pending, jobs_of = as_completed(), {}

    def submit(order: int, student: str, digest: str, files: dict[str, bytes],
               lost: int) -> None:
        # Graded in the order of `jobs` (Dask's own order among tasks submitted together is
        # arbitrary), a resubmitted one in its place.
        key = f"grade-{bundle.chapter}-{student}-{digest[:12]}" + (f"-again-{lost}" * bool(lost))
        future = client.submit(attempt, f"autograder-{run}-{student}", grade, state["bundle"],
                               student, files, key=key, pure=False, retries=0,
                               priority=len(jobs) - order, **options)
        jobs_of[future] = (order, student, digest, files, lost)
        pending.add(future)

    for order, (student, digest, files) in enumerate(jobs):
        submit(order, student, digest, files, 0)
    try:
        for future in pending:
            order, student, digest, files, lost = jobs_of.pop(future)
            try:
                result = future.result()
            except KilledWorker as exc:
                if lost < RESUBMISSIONS:
                    if exc.task == bundle_key or state["bundle"].status in ("error", "cancelled"):
                        state["bundle"].release()     # Dask gave up on the bundle: a new one
                        bundle_key = f"bundle-{bundle.chapter}-{run}-{lost + 1}"
                        state["bundle"] = client.submit(_same, bundle, key=bundle_key,
                                                        pure=False)
                    submit(order, student, digest, files, lost + 1)
                    continue
                result = Lost(f"its worker died {RESUBMISSIONS} times while it waited or was "
                              f"graded: the cluster keeps losing workers (see their logs)")
            except Exception as exc:           # the grading raised: the cohort records it
                result = exc
            finally:
                future.release()
            yield student, digest, result
    finally:
        state["bundle"].release()
