"""`python -m autograder doctor`: test, on this machine, every promise the grading sandbox makes.

Each promise is tested by a real program doing the harmful thing inside the sandbox, started
exactly as grading starts student code (spawn.Sandbox: bubblewrap, its cgroup, rlimits), and
bounded so that a limit that does not hold cannot hurt the machine: memory is allocated in steps
up to twice the limit, processes are forked up to twice the limit, and so on. The probes use
smaller limits than grading (so they take seconds), enforced by the same mechanisms.

Exit status 0 when every promise holds, 1 when one does not: `make grade` runs the doctor first
and refuses to grade unless COURSE_GRADING_WITHOUT_SANDBOX=I_UNDERSTAND_STUDENT_CODE_IS_UNCONFINED.
Where no sandbox starts at all (a grader that is not root, on a host that refuses unprivileged
user namespaces) it says why and what to do (bwrap.userns_advice) and runs no probe.
`--delegate USER` (as root) gives the course's cgroup parent to an instructor account first
(cgroups.delegate), so that grading as that user gets cgroups rather than the rlimit stand-ins.

A passing run is kept (proof.py: per host, boot, user, mechanisms, limits and code version);
`--cached` uses a kept proof that still matches, checking only that an empty sandbox starts,
and proves again otherwise: what grading runs before each command and on each worker.
"""

import argparse
from pathlib import Path

from autograder.sandbox import bwrap, cgroups, promises, proof, spawn
from autograder.sandbox.limits import Limits, grading_limits
from autograder.sandbox.promises import PROBE_LIMITS, Row


def table(rows: list[Row]) -> str:
    """The rows as the doctor prints them."""
    width = max(len(r.promise) for r in rows)
    lines = [f"{'promise':{width}}  {'':8}  by, and what the probe saw", "-" * (width + 60)]
    for r in rows:
        state = "held" if r.held else "NOT HELD" if r.required else "weak"
        lines.append(f"{r.promise:{width}}  {state:8}  {r.mechanism}")
        if r.detail:
            lines.append(f"{'':{width}}  {'':8}  ({r.detail})")
    return "\n".join(lines)


def limits_text(limits: Limits) -> str:
    return (f"memory {limits.memory_bytes >> 20} MB, {limits.max_processes} processes, files "
            f"{limits.file_bytes >> 20} MB, CPU {limits.cpu_seconds} s, {limits.cpu_cores:g} "
            f"core(s), scratch {limits.scratch_bytes >> 20} MB")


def add_parser(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The `doctor` command of `python -m autograder` (autograder/cli.py)."""
    description = ("Test, with real programs in the sandbox, every promise grading makes about "
                   "student code; exit 1 if one does not hold here.")
    parser = subparsers.add_parser(
        "doctor", help="test on this machine every promise the grading sandbox makes",
        description=description)
    parser.add_argument("--cgroup-root", type=Path, default=None,
                        help="where the cgroup hierarchy is (default /sys/fs/cgroup)")
    parser.add_argument("--no-rlimit-fallback", action="store_true",
                        help="do not stand in for a missing cgroup with rlimits (to see what "
                             "the cgroups alone hold)")
    parser.add_argument("--delegate", metavar="USER", default=None,
                        help="as root: make the course's cgroup parent (course-grading) and "
                             "give it to USER, so that grading as USER gets memory, process and "
                             "CPU limits from cgroups; then test the promises as usual")
    parser.add_argument("--cached", action="store_true",
                        help="use the proof kept from an earlier run on this host when nothing "
                             "it depends on changed (then only check that a sandbox starts); "
                             "prove again otherwise")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Every promise, tested and printed as a table: 0 when every required one holds, else 1."""
    if not bwrap.bwrap_path():
        print("bubblewrap (bwrap) is not installed: no promise holds; grading refuses to run "
              "(Debian: apt-get install bubblewrap).")
        return 1
    if args.delegate:
        try:
            made = cgroups.delegate(args.delegate, args.cgroup_root)
        except (OSError, KeyError, ValueError) as exc:
            print(f"Could not delegate the course's cgroups to {args.delegate}: {exc}")
            return 1
        print(f"Delegated to {args.delegate}: {', '.join(map(str, made))}. Grading as "
              f"{args.delegate} now makes its sandboxes' cgroups there (the table below is "
              f"root's: run the doctor as {args.delegate} to see theirs).")
    problem = spawn.sandbox_problem()
    if problem:
        # No sandbox starts at all (a host that refuses the user namespace a grader that is not
        # root needs): no probe could show anything.
        print(f"No promise holds: {problem}")
        return 1
    default = args.cgroup_root is None and not args.no_rlimit_fallback
    if args.cached and default:
        kept = proof.kept()
        if kept:
            problem = proof.sandbox_starts()
            if not problem:
                print(f"The sandbox's promises were proven on this host at {kept['proven_at']} "
                      f"and nothing they depend on has changed (kept proof; `python -m "
                      f"autograder doctor` proves them again); a sandbox starts.")
                return 0
            print(f"The kept proof no longer holds: {problem}. Proving again.")
    grading = grading_limits()
    print(f"The sandbox's promises on this machine. Grading limits: {limits_text(grading)}; "
          f"the probes use {limits_text(PROBE_LIMITS)}, enforced the same way.", flush=True)
    # promises.Doctor looked up here, so that a test can stand in for it.
    doctor = promises.Doctor(cgroup_root=args.cgroup_root,
                             fallback=not args.no_rlimit_fallback)
    rows = doctor.check()
    print()
    print(table(rows))
    weak = [r.promise for r in rows if not r.held and not r.required]
    if weak:
        print(f"\nWeaker here, grading runs anyway: {'; '.join(weak)} (see the table).")
    failed = [r.promise for r in rows if not r.held and r.required]
    if default:
        # Kept only when every promise was tested and held, for grading to rely on; a failing
        # run removes it.
        tested = {r.promise for r in rows} >= set(promises.PROMISES.values())
        _keep(table(rows) if tested and not failed else None)
    if not failed:
        print("\nEvery promise holds here." if not weak else
              "Every other promise holds here.")
        return 0
    print(f"\n{len(failed)} promise(s) do not hold here: {'; '.join(failed)}.")
    if spawn.opted_out():
        print(f"{spawn.OPT_OUT_VARIABLE} is set, so grading will run anyway, with no sandbox "
              f"at all: {spawn.WITHOUT_SANDBOX}.")
    else:
        print(f"Grading (make grade) refuses to run. To grade anyway, knowing that "
              f"{spawn.WITHOUT_SANDBOX}, set {spawn.OPT_OUT_VARIABLE}="
              f"{spawn.OPT_OUT_VALUE}.")
    return 1


def _keep(passed: str | None) -> None:
    """Keep the passing table as this host's proof, or forget the proof (None); a proof folder
    this user cannot write costs only the speed-up, said once."""
    try:
        if passed is None:
            proof.forget()
        else:
            proof.keep(passed)
    except OSError as exc:
        print(f"(The proof could not be kept in {proof.folder()}: {exc}; grading will run the "
              f"probes again.)")
