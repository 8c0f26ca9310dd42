"""The sandbox every process that runs student code runs in: bubblewrap, cgroups and rlimits.

A sandboxed process sees only the Python installation, a copy of what its caller put in its
scratch folder and the paths it is handed read-only; it has no network, runs in a PID namespace
so that everything it starts dies with it, as an unprivileged user, under a memory limit, a
process limit and a CPU share, with a bound on CPU time and on the size of any file it writes,
and can write only size-limited tmpfs, never the grading machine's disk.

    spawn.py     THE way to start a confined process: `Sandbox` (process, cgroup and scratch
                 folder, gone together) and `plan` (for the kernel, which jupyter_client
                 starts); require_sandbox and the instructor's opt-out
    limits.py    `Limits`, and `grading_limits()`: the course's settings (settings.py's
                 `c.SandboxLimits` in nbgrader_config.py)
    bwrap.py     the bubblewrap command line, the environment, the sandbox's user
    cgroups.py   `ResourceGroup` (cgroup v1 or v2) and which mechanism holds each limit here
    rlimits.py   the rlimits, and the preexec_fn that joins the cgroup and sets them
    files.py     scratch folders, removing leftovers, `open_regular` (no link followed)
    process.py   `kill_group`, `exit_status`, the processes a sandbox started
    runner.py    calls into a student's code in a confined process; results as plain data
    doctor.py    `python -m autograder doctor`: every promise above, tested on this machine
"""
