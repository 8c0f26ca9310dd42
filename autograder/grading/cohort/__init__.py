"""Grade a cohort: `python -m autograder grade CHAPTER` on every core, or on any Dask cluster.

`nbgrader autograde` grades one submission after another. This command grades the same
submissions with the same pipeline -- nbgrader's own `Autograde` converter, configured by the
course's `nbgrader_config.py` (sandboxed kernel, trusted verdict, checked submissions) -- on the
workers of a Dask cluster: a `LocalCluster` with one worker process per core by default, or an
existing scheduler (`--scheduler tcp://HOST:8786`: SLURM or PBS through dask-jobqueue, Kubernetes,
plain `dask scheduler` / `dask worker` machines).

How one submission travels:

1. Here (the machine that runs the command, the only one that touches the gradebook and the
   course folders): the submission is checked without following anything
   (`submissions.submission_problems`; a refused one gets its zero here, as `nbgrader autograde`
   gives it), read into memory, and fingerprinted with the assignment's definition (`bundle`).
2. On a worker: a scratch course is made from that data -- the course's config, a SQLite
   gradebook holding only the assignment's definition (its cells, points and checksums, no
   student's grades), the assignment's non-notebook files and the submission -- and nbgrader's
   `Autograde` runs there (`worker`). The worker sends back the autograded files
   (`worker.WorkerResult`). Nothing is shared but data.
3. Here: the grades are read from the autograded notebooks as nbgrader's `SaveAutoGrades` and
   `AssignLatePenalties` read them, and written to the real gradebook in one transaction; then
   the autograded folder replaces the old one in one rename, with a marker holding the
   fingerprint (`autograder.grading.gradebook`, the one writer of the course's grades). A run
   that stops at any point leaves each submission either graded or not; started again, it
   grades only submissions without a marker or whose fingerprint changed (`--force` regrades
   all).

A worker runs the sandbox self-test when it joins -- the host's proof (`python -m autograder
doctor`, kept per host, boot, user, mechanisms, limits and code version by
`autograder.sandbox.proof`, proven again once per host when any changed) and an empty sandbox
started as grading starts one -- and offers the `autograder-sandbox` resource only if both hold
(or the grading machine opted out); submissions go only to workers offering it (a worker a
LocalCluster restarts runs it again).
A worker that dies mid-run loses nothing (`attempts`): its submissions are graded again elsewhere,
each result is written once, and a submission whose grading killed its worker twice is not graded
a third time but reported as failed.

Which module runs where:

- here, on the grading machine: `command` (the `grade` subcommand), `run` (one chapter, from the
  submitted folders to the gradebook), `bundle` (the assignment and each submission as data,
  fingerprints), `cluster` (the Dask cluster, waiting for sandboxed workers), `progress` (each
  submission's status, the progress lines and the summary);
- on a Dask worker: `worker` (grading one submission in a scratch course, the sandbox self-test
  plugin), and `attempts.attempt` around it (`attempts.grade_all`, on the grading machine,
  counts the deaths).
"""
