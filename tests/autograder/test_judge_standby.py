"""A Keras check's judge starts with the notebook's verdict, on standby: it imports TensorFlow
while the student's process runs, holding no student data, and takes the model once it comes.

Real processes throughout (bubblewrap, TensorFlow): what these tests watch from outside is which
process judged, what it reports of its start, and what is left once the notebook is judged. The
tests marked slow train the logistic_regression reference (~15-20 s each on a busy 2-core host).
"""

import os
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from autograder.checks import keras_models
from autograder.checks.base import run_checks
from autograder.checks.logistic_regression import BinaryClassifier
from autograder.sandbox import bwrap
from autograder.sandbox.files import SCRATCH_PREFIX
from autograder.sandbox.runner import Reason
from autograder.sandbox.spawn import OPT_OUT_VALUE, OPT_OUT_VARIABLE
from tests.autograder.test_judge_deadline import REFERENCE, judges_running

needs_bwrap = pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")


def judge_folders():
    return sorted(Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}{os.getpid()}-keras-judge-*"))


class Recorder:
    """Wraps keras_models.standby_judge and judge_model: which standby judges started, and
    what each judgement was given and returned."""

    def __init__(self, monkeypatch):
        self.standbys, self.judged = [], []
        standby_judge, judge_model = keras_models.standby_judge, keras_models.judge_model

        def recording_standby(*args, **kwargs):
            manager = standby_judge(*args, **kwargs)
            recorder = self

            class Recording:
                def __enter__(self):
                    standby = manager.__enter__()
                    recorder.standbys.append({
                        "standby": standby, "pid": standby.run.proc.pid,
                        "scratch": standby.run.scratch,
                        "groups": list(standby.run.group.dirs.values())
                        if standby.run.group else []})
                    return standby

                def __exit__(self, *exc):
                    return manager.__exit__(*exc)

            return Recording()

        def recording_judge(*args, **kwargs):
            standby = kwargs.get("standby")
            pid = standby.run.proc.pid if standby is not None else None
            facts, outputs = judge_model(*args, **kwargs)
            self.judged.append({"standby_pid": pid, "facts": facts})
            return facts, outputs

        monkeypatch.setattr(keras_models, "standby_judge", recording_standby)
        monkeypatch.setattr(keras_models, "judge_model", recording_judge)

    def assert_nothing_left(self):
        for started in self.standbys:
            assert not psutil.pid_exists(started["pid"]) or \
                psutil.Process(started["pid"]).status() == psutil.STATUS_ZOMBIE
            assert not os.path.exists(started["scratch"]), started["scratch"]
            for group in started["groups"]:
                assert not os.path.exists(group), group
        assert judges_running() == []
        assert judge_folders() == []


@needs_bwrap
def test_a_standby_judge_that_gets_no_job_leaves_nothing_behind(monkeypatch):
    """The student's code defines no model: the judge started with the verdict, importing
    TensorFlow, never gets a job and is gone with the notebook's verdict."""
    recorder = Recorder(monkeypatch)
    check = BinaryClassifier()
    verdicts, _ = run_checks([check], ["x = 1\n"], total_timeout=60.0)
    [failure] = verdicts[check.exercise_id].failures
    assert failure.reason is Reason.MISSING
    assert len(recorder.standbys) == 1          # it was started ...
    assert not recorder.standbys[0]["standby"].handed_over
    assert recorder.judged == []                # ... and never judged anything
    recorder.assert_nothing_left()


@needs_bwrap
def test_a_standby_judge_stopped_while_importing_leaves_nothing_behind():
    with keras_models.standby_judge() as standby:
        time.sleep(0.5)                      # bubblewrap is up, TensorFlow loading
        assert standby.run.proc.poll() is None
        pid, scratch = standby.run.proc.pid, standby.run.scratch
        groups = list(standby.run.group.dirs.values()) if standby.run.group else []
        assert judges_running()
    assert standby.run.proc.poll() is not None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not os.path.exists(scratch)
    assert not any(os.path.exists(group) for group in groups)
    assert judges_running() == [] and judge_folders() == []


@needs_bwrap
@pytest.mark.slow
def test_the_model_is_judged_by_the_judge_started_with_the_verdict(monkeypatch):
    """The judge that trains the model is the standby one, and it says so: it reports how long
    it waited for its job after TensorFlow was imported ("waited"), which a judge started for
    the job cannot. Its training budget counts from training on, so the import spent none."""
    recorder = Recorder(monkeypatch)
    check = BinaryClassifier()
    verdicts, _ = run_checks([check], [REFERENCE], total_timeout=300.0)
    assert verdicts[check.exercise_id].accepted, verdicts[check.exercise_id].feedback()
    [started] = recorder.standbys
    [judged] = recorder.judged
    assert judged["standby_pid"] == started["pid"]
    assert started["standby"].handed_over
    facts = judged["facts"]
    assert "waited" in facts.seconds, facts.seconds
    assert facts.cpu_seconds["train"] < check.train_seconds
    print(f"\nstandby judge: start (TensorFlow) {facts.seconds['start']:.2f} s, then waited "
          f"{facts.seconds['waited']:.2f} s for the job; build {facts.seconds['build']:.2f} s, "
          f"train {facts.seconds['train']:.2f} s, predict {facts.seconds['predict']:.2f} s")
    recorder.assert_nothing_left()


@needs_bwrap
@pytest.mark.slow
def test_a_judge_judges_alone_without_a_standby(monkeypatch):
    """judge_model without a standby judge (or with one that has had its job) starts its own,
    which reports no wait: the test above can tell the two apart."""
    recorder = Recorder(monkeypatch)
    check = BinaryClassifier()
    monkeypatch.setattr(BinaryClassifier, "prepared", lambda self: keras_models.contextlib
                        .nullcontext())
    verdicts, _ = run_checks([check], [REFERENCE], total_timeout=300.0)
    assert verdicts[check.exercise_id].accepted, verdicts[check.exercise_id].feedback()
    [judged] = recorder.judged
    assert judged["standby_pid"] is None
    assert "waited" not in judged["facts"].seconds


@pytest.mark.slow
def test_without_the_sandbox_the_standby_judge_works_the_same(monkeypatch):
    """The instructor's opt-out: the same standby judge, unsandboxed, judges the model, and
    nothing is left."""
    monkeypatch.setenv(OPT_OUT_VARIABLE, OPT_OUT_VALUE)
    recorder = Recorder(monkeypatch)
    check = BinaryClassifier()
    verdicts, _ = run_checks([check], [REFERENCE], total_timeout=300.0)
    assert verdicts[check.exercise_id].accepted, verdicts[check.exercise_id].feedback()
    [started] = recorder.standbys
    assert started["groups"] == []
    [judged] = recorder.judged
    assert judged["standby_pid"] == started["pid"]
    assert "waited" in judged["facts"].seconds
    recorder.assert_nothing_left()
