"""The sandbox's kept proof: the doctor keeps a passing run, grading uses it while nothing it
depends on changed, proves again when something did, and each worker checks that its own
sandbox starts. The probes are stood in for where a test is about the keeping, not the probes
(test_doctor.py runs them for real)."""

import threading

import pytest

from autograder import cli
from autograder.grading.cohort import worker
from autograder.sandbox import bwrap, promises, proof, spawn

pytestmark = pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")


@pytest.fixture
def proofs(tmp_path, monkeypatch):
    """A proof folder of this test's own, and probes that count their runs."""
    monkeypatch.setenv("AUTOGRADER_PROOF_DIR", str(tmp_path / "proofs"))
    monkeypatch.delenv(spawn.OPT_OUT_VARIABLE, raising=False)
    runs = []

    def check(self, held=True):
        runs.append(1)
        return [promises.Row(p, held, "stood in") for p in promises.PROMISES.values()]

    monkeypatch.setattr(promises.Doctor, "check", check)
    return runs


def kept_files(tmp_path):
    return sorted(p.name for p in (tmp_path / "proofs").glob("sandbox-proof-*.json"))


def test_a_passing_run_is_kept_and_used_until_something_changes(proofs, tmp_path, capsys,
                                                                 monkeypatch):
    assert cli.main(["doctor", "--cached"]) == 0        # nothing kept yet: the probes run
    assert len(proofs) == 1 and len(kept_files(tmp_path)) == 1
    assert (tmp_path / "proofs").stat().st_mode & 0o777 == 0o700
    capsys.readouterr()

    assert cli.main(["doctor", "--cached"]) == 0        # kept: no probe runs
    assert len(proofs) == 1
    assert "kept proof" in capsys.readouterr().out
    assert worker.self_test()[0] and len(proofs) == 1

    # The sandbox's code changed (or the limits, the host, its boot, bubblewrap...): proven again.
    monkeypatch.setattr(proof, "_code_digest", lambda: "another version")
    assert cli.main(["doctor", "--cached"]) == 0
    assert len(proofs) == 2 and len(kept_files(tmp_path)) == 2

    assert cli.main(["doctor"]) == 0                    # on request: always proven again
    assert len(proofs) == 3


def test_the_key_holds_what_the_proof_depends_on(proofs):
    key = proof.key()
    assert set(key) >= {"host", "kernel", "boot", "uid", "mechanisms", "bwrap", "limits",
                        "probe_limits", "code", "python"}
    assert key["boot"] != "unknown" and len(key["code"]) == 64
    assert "memory" in key["mechanisms"] and "memory_bytes" in key["limits"]


def test_a_failing_run_removes_the_kept_proof(proofs, tmp_path, monkeypatch):
    assert cli.main(["doctor"]) == 0
    assert kept_files(tmp_path)
    monkeypatch.setattr(promises.Doctor, "check", lambda self: [
        promises.Row(p, p != promises.PROMISES["memory"], "stood in")
        for p in promises.PROMISES.values()])
    assert cli.main(["doctor"]) == 1
    assert kept_files(tmp_path) == []


def test_a_run_that_did_not_test_every_promise_is_not_kept(proofs, tmp_path, monkeypatch):
    monkeypatch.setattr(promises.Doctor, "check", lambda self: [
        promises.Row(promises.PROMISES["memory"], True, "stood in")])
    assert cli.main(["doctor"]) == 0
    assert kept_files(tmp_path) == []


def test_workers_of_one_host_prove_it_once(proofs, monkeypatch):
    """Concurrent self-tests without a kept proof: one runs the doctor, the others wait for its
    proof (the doctor's process stood in by an in-process run that takes a while)."""
    doctors = []

    def doctor(timeout):
        doctors.append(1)
        threading.Event().wait(0.5)
        return cli.main(["doctor"]) == 0, "proven"

    monkeypatch.setattr(proof, "_doctor", doctor)
    results = []
    threads = [threading.Thread(target=lambda: results.append(proof.ensure())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(doctors) == 1 and len(proofs) == 1
    assert [held for held, _ in results] == [True] * 4


def test_a_worker_whose_sandbox_does_not_start_refuses_work(proofs, monkeypatch):
    assert cli.main(["doctor"]) == 0
    assert proof.sandbox_starts() == ""
    # bubblewrap refuses (as on a host whose user namespaces were turned off since the proof).
    real = bwrap.bwrap_command
    monkeypatch.setattr(bwrap, "bwrap_command",
                        lambda argv, *a, **k: real(["/bin/sh", "-c", "exit 3"], *a, **k))
    problem = proof.sandbox_starts()
    assert "did not start (exit 3)" in problem
    passed, report = worker.self_test()
    assert not passed and report == problem
    assert cli.main(["doctor", "--cached"]) == 0 and len(proofs) == 2   # proven again


def test_an_unwritable_proof_folder_costs_only_the_speed(proofs, tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("AUTOGRADER_PROOF_DIR", str(tmp_path / "file" / "proofs"))
    assert cli.main(["doctor"]) == 0
    assert "could not be kept" in capsys.readouterr().out
    monkeypatch.setattr(proof, "_doctor", lambda timeout: (True, "proven, not kept"))
    assert proof.ensure() == (True, "proven, not kept")


def test_a_self_test_that_raises_refuses_work_and_says_why(proofs, monkeypatch):
    def broken():
        raise PermissionError("cgroup.procs: Permission denied")

    monkeypatch.setattr(proof, "key", broken)
    passed, report = worker.self_test()
    assert not passed and "PermissionError: cgroup.procs: Permission denied" in report
