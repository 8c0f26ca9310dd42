"""The result channel is hostile input: student code can find the pipe and write to it itself.

Each test is an attack a review reproduced against the grader: it must end quickly, with a
rejection that says why, and without harming the grading process.
"""

import copy
import resource
import time

import pytest

from autograder import channel
from autograder.channel import MAX_MESSAGE_BYTES
from autograder.checks import elementary_functions
from autograder.sandbox.runner import Call, Reason, run_calls
from tests.conftest import run_check

# Student code finds the channel (the child script keeps its number) and the call keys (the job
# file lies in its working folder).
FIND_CHANNEL = """
import json, os, sys, time
CHANNEL = int(sys.modules["__main__"]._fd)
KEYS = [c["key"] for c in json.load(open("job.json"))["calls"]]
def forge(message):
    os.write(CHANNEL, (message if isinstance(message, str) else json.dumps(message)).encode()
             + b"\\n")
"""


def test_start_messages_do_not_extend_a_calls_deadline():
    code = FIND_CHANNEL + """
def f(x):
    for _ in range(200):
        forge({"event": "start", "key": KEYS[0]})
        time.sleep(0.25)
    return 1
"""
    start = time.monotonic()
    report = run_calls([code], [Call("k", "f", args=(0,), timeout=2.0)])
    assert report.outcomes["k"].reason is Reason.TIMEOUT
    assert time.monotonic() - start < 20


def test_forged_result_and_start_cannot_outlast_the_runs_total_deadline():
    # Forging a result then the next start would reset a per-call deadline call after call:
    # the run's total deadline bounds it whatever is sent.
    code = FIND_CHANNEL + """
def f(x):
    for key in KEYS * 50:
        forge({"event": "result", "key": key, "ok": True, "value": 1})
        forge({"event": "start", "key": key})
        time.sleep(0.5)
    return 1
"""
    calls = [Call(f"k{i}", "f", args=(0,), timeout=3.0) for i in range(4)]
    start = time.monotonic()
    report = run_calls([code], calls, load_timeout=5.0, total_timeout=8.0)
    assert time.monotonic() - start < 20
    assert report.outcomes and all(not out.ok or out.value == 1
                                   for out in report.outcomes.values())


def test_a_sub_array_dtype_is_refused_without_allocating():
    code = FIND_CHANNEL + """
def f(x):
    forge({"event": "result", "key": KEYS[0], "ok": True,
           "value": {"__ndarray__": [], "dtype": "(250,1000,1000)f8", "shape": [0]}})
    time.sleep(30)
"""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = run_calls([code], [Call("k", "f", args=(0,), timeout=5.0)])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert report.outcomes["k"].reason is Reason.UNREADABLE
    assert "dtype" in report.outcomes["k"].error
    assert grown_mb < 200


def test_an_array_whose_shape_claims_more_than_it_holds_is_refused():
    code = FIND_CHANNEL + """
def f(x):
    forge({"event": "result", "key": KEYS[0], "ok": True,
           "value": {"__ndarray__": [1.0], "dtype": "<f8", "shape": [100000, 100000]}})
    time.sleep(30)
"""
    report = run_calls([code], [Call("k", "f", args=(0,), timeout=5.0)])
    assert report.outcomes["k"].reason is Reason.UNREADABLE


def test_deep_nesting_is_refused_not_a_recursion_error():
    code = FIND_CHANNEL + """
def f(x):
    deep = "[" * 100000 + "]" * 100000
    forge('{"event": "result", "key": "%s", "ok": true, "value": %s}' % (KEYS[0], deep))
    forge({"event": "result", "key": KEYS[1], "ok": True,
           "value": json.loads("[" * 500 + "]" * 500)})
    time.sleep(30)
"""
    report = run_calls([code], [Call("k0", "f", args=(0,), timeout=5.0),
                                Call("k1", "f", args=(0,), timeout=5.0)])
    # The 100,000-deep line is not JSON Python can read: ignored, so that call times out; the
    # 500-deep one is JSON but deeper than any result: refused as unreadable.
    assert report.outcomes["k0"].reason in {Reason.TIMEOUT, Reason.UNREADABLE}


def test_a_message_larger_than_the_bound_stops_the_call():
    code = FIND_CHANNEL + f"""
def f(x):
    os.write(CHANNEL, b"x" * {MAX_MESSAGE_BYTES + 4 * 1024 * 1024})
    time.sleep(30)
"""
    start = time.monotonic()
    report = run_calls([code], [Call("k", "f", args=(0,), timeout=10.0)])
    assert report.outcomes["k"].reason is Reason.UNREADABLE
    assert time.monotonic() - start < 10


def test_a_closed_channel_ends_the_run_at_once():
    code = FIND_CHANNEL + "os.close(CHANNEL)\ntime.sleep(60)\ndef f(x):\n    return 1\n"
    start = time.monotonic()
    report = run_calls([code], [Call("a", "f", args=(0,)), Call("b", "f", args=(0,))])
    assert time.monotonic() - start < 15
    assert {out.reason for out in report.outcomes.values()} == {Reason.NOT_LOADED}
    assert "closed the result channel" in report.outcomes["a"].error


def test_a_huge_integer_is_a_rejection_with_a_reason():
    verdict = run_check("stability.log_sum_exp", "def log_sum_exp(z):\n    return 10**400\n")
    assert not verdict.accepted
    assert verdict.reasons <= {Reason.UNREADABLE, Reason.UNJUDGED}
    assert "too large" in verdict.feedback() or "could not be judged" in verdict.feedback()


def test_a_callable_comes_back_only_from_a_helper_module_the_run_loaded():
    helpers = {"elementary_functions": elementary_functions}
    relu = channel.decode({"__callable__": "elementary_functions.relu"}, helpers)
    assert relu(-2.0) == 0.0 and repr(relu) == "relu"
    for name in ("os.system", "elementary_functions.np", "elementary_functions.__class__",
                 "relu", ["relu"]):
        with pytest.raises(ValueError):
            channel.decode({"__callable__": name}, helpers)
    assert copy.deepcopy((relu,))[0] is relu   # the child's snapshot of a call's arguments
