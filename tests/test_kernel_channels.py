"""A student's kernel cannot exhaust the grader's memory through its channels (issue 18).

The first two tests grade, with a real `nbgrader autograde`, correct stability submissions whose
extra cell floods one of the kernel's channels, next to a plain correct one. Every submission
must get its full score (the verdict comes from the code, not from the kernel), and the grading
process's peak memory (VmHWM, read from /proc while it runs) must stay well below what an
unbounded channel costs: without these bounds the stdin flood alone took the grader to 5.2 GB,
and the display-update flood wrote a 1.2 GB notebook. A run that goes past SAFETY_CAP is killed,
so a regression fails the test without taking the machine. The others test the relay program
(channel_relay.py) on sockets of their own, and SandboxedExecute's handling of comm messages and
display updates, directly.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest
import zmq
from jupyter_client.session import Session
from nbformat.v4 import new_code_cell, new_notebook

from autograder.grading.kernel_channels import CUT, RELAY
from autograder.grading.preprocessors import SandboxedExecute
from autograder.sandbox import bwrap
from tests.course import BIN, copy_course, nbgrader, nbgrader_env

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "stability"
MB = 1024 ** 2
GRADER_BOUND = 1536 * MB       # what the grading process may reach under any flood
SAFETY_CAP = 3072 * MB         # a run past this is killed: the bounds do not hold
needs_bwrap = pytest.mark.skipif(not bwrap.bwrap_path(), reason="bubblewrap is not installed")

# Each flood runs only in the student's kernel (the verdict's process has no get_ipython).
PREAMBLE = """\
try:
    _kernel = get_ipython().kernel
except NameError:
    _kernel = None
"""

# 64 MB messages to the client's identity on the kernel's stdin socket: jupyter_client's
# client opens its stdin channel under the session's id, which every request carries.
STDIN_FLOOD = PREAMBLE + """\
if _kernel is not None:
    _ident = _kernel.get_parent()["header"]["session"].encode()
    _big = b"x" * (64 * 1024 * 1024)
    for _ in range(80):
        _sent = _kernel.stdin_socket.send_multipart([_ident, b"<IDS|MSG>", _big], copy=False,
                                                    track=True)
    _sent.wait(30)      # until ZeroMQ has passed the last one on (or dropped it)
print("stdin flood sent")
"""

# The same on the control socket (the client's control channel has the same identity).
CONTROL_FLOOD = STDIN_FLOOD.replace("_kernel.stdin_socket", "_kernel.control_stream.socket") \
                           .replace("stdin flood", "control flood")

# Signed output messages of 64 MB each, for the cell being run: each is over the message limit,
# so the relay drops it, and the grader counts its size against the output limit.
IOPUB_OVERSIZED = PREAMBLE + """\
if _kernel is not None:
    _text = "x" * (64 * 1024 * 1024)
    for _ in range(8):
        _kernel.session.send(_kernel.iopub_socket, "stream", {"name": "stdout", "text": _text},
                             parent=_kernel.get_parent())
print("iopub flood sent")
"""

# One message of 3,000 frames of 512 KB (1.5 GB), each frame under any per-frame limit: ZeroMQ
# hands a message over whole, so its receiver holds every frame before anyone can look at it.
IOPUB_MULTIPART = PREAMBLE + """\
if _kernel is not None:
    import time
    _frame = b"x" * (512 * 1024)
    _kernel.iopub_socket.send_multipart([b"stream"] + [_frame] * 3000, copy=False)
    time.sleep(3)       # the kernel's I/O thread sends it meanwhile
print("multipart flood sent")
"""

# Widget models whose state nbclient used to keep whole while the kernel ran: 240 with a binary
# buffer of 5 MB (1.2 GB), 20 output widgets with 1 MB of state, and one model of 50 MB.
WIDGET_FLOOD = PREAMBLE + """\
def _open(state, buffers=()):
    import uuid
    paths = [["value"]] if buffers else []
    _kernel.session.send(_kernel.iopub_socket, "comm_open",
                         {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget",
                          "data": {"state": state, "buffer_paths": paths}},
                         parent=_kernel.get_parent(), buffers=list(buffers))

if _kernel is not None:
    _text = {"_model_module": "@jupyter-widgets/controls", "_model_name": "TextModel",
             "_model_module_version": "2.0.0"}
    _buffer = b"x" * (5 * 1024 * 1024)
    for _ in range(240):
        _open(_text, [_buffer])
    _output = {"_model_module": "@jupyter-widgets/output", "_model_name": "OutputModel",
               "_model_module_version": "1.0.0", "outputs": [], "msg_id": "",
               "padding": "x" * (1024 * 1024)}
    for _ in range(20):
        _open(_output)
    _open(dict(_text, value="x" * (50 * 1024 * 1024)))
print("widget flood sent")
"""

# 300 outputs under one display id, then one update of 4 MB: an update replaces each of them,
# so the stored notebook would hold it 300 times (1.2 GB).
DISPLAY_FLOOD = """\
from IPython.display import display
_handle = display("x", display_id=True)
if _handle is not None:
    for _ in range(300):
        display("y", display_id=_handle.display_id)
    _handle.update("z" * (4 * 1024 * 1024))
print("display flood sent")
"""


def correct_notebook():
    return json.loads((ROOT / "samples/submitted/sample-correct" / CHAPTER /
                       "exercises.ipynb").read_text())


def with_cell(source):
    """The correct submission with `source` as an extra code cell after the setup cell, so the
    solution cells run after it."""
    nb = correct_notebook()
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source}
    nb["cells"].insert(2, cell)
    return nb


def submit(course, student, nb):
    folder = course / "submitted" / student / CHAPTER
    folder.mkdir(parents=True)
    (folder / "exercises.ipynb").write_text(json.dumps(nb))


def vm_hwm(pid):
    """Peak resident memory of a process so far (bytes), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def autograde(course):
    """Run `nbgrader autograde`, watching its peak memory; kill it past SAFETY_CAP.

    Returns (returncode, stderr, peak bytes of the grading process, peak bytes of any relay)."""
    log = course / "autograde.log"
    with open(log, "w") as err:
        run = subprocess.Popen([str(BIN / "nbgrader"), "autograde", CHAPTER, "--force"],
                               cwd=course, env=nbgrader_env(), stdout=subprocess.DEVNULL,
                               stderr=err, start_new_session=True)
        grader = psutil.Process(run.pid)
        peak, relay_peak, killed = 0, 0, False
        while run.poll() is None:
            peak = max(peak, vm_hwm(run.pid) or 0)
            try:
                children = grader.children(recursive=True)
            except psutil.Error:
                children = []
            for child in children:
                try:
                    if "channel_relay" in " ".join(child.cmdline()):
                        relay_peak = max(relay_peak, vm_hwm(child.pid) or 0)
                except psutil.Error:
                    pass
            if peak > SAFETY_CAP and not killed:
                killed = True
                os.killpg(run.pid, signal.SIGKILL)
            time.sleep(0.05)
    stderr = log.read_text()
    assert not killed, f"the grading process passed {SAFETY_CAP // MB} MB and was killed"
    return run.returncode, stderr, peak, relay_peak


def scores(course):
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def grade_floods(tmp_path, floods):
    course = copy_course(tmp_path / "course")
    nbgrader(course, "generate_assignment", CHAPTER, "--force")
    submit(course, "good", correct_notebook())
    for student, source in floods.items():
        submit(course, student, with_cell(source))
    started = time.monotonic()
    returncode, stderr, peak, relay_peak = autograde(course)
    seconds = time.monotonic() - started
    print(f"\nautograde: {seconds:.1f} s, grader peak {peak / MB:.0f} MB, "
          f"relay peak {relay_peak / MB:.0f} MB")
    return course, returncode, stderr, peak


def autograded(course, student):
    return course / "autograded" / student / CHAPTER / "exercises.ipynb"


@pytest.mark.slow
@needs_bwrap
def test_flooded_channels_leave_the_grader_bounded(tmp_path):
    floods = {"stdin-flood": STDIN_FLOOD, "control-flood": CONTROL_FLOOD,
              "iopub-oversized": IOPUB_OVERSIZED, "iopub-multipart": IOPUB_MULTIPART}
    course, returncode, stderr, peak = grade_floods(tmp_path, floods)
    assert returncode == 0, stderr[-4000:]
    assert scores(course) == {"good": 10, **{student: 10 for student in floods}}
    assert peak < GRADER_BOUND, f"grader peak {peak / MB:.0f} MB"
    # The oversized messages count as output past the limit, and the notebook went on.
    nb = json.loads(autograded(course, "iopub-oversized").read_text())
    text = json.dumps(nb["cells"][2]["outputs"])
    assert "output limit" in text
    assert nb["cells"][-1]["execution_count"], "the cells after the flood did not run"
    assert "iopub-oversized/stability/exercises: output limit" in stderr
    assert "iopub-oversized/stability/exercises: channel limit: 8 iopub messages" in stderr
    # The message the relay could not hold cut the kernel off: it was stopped, and said why.
    assert "iopub-multipart/stability/exercises: output limit: the kernel sent output too large" \
        in stderr
    assert "iopub-multipart/stability/exercises: channel limit: the kernel's iopub connection " \
        "was cut" in stderr


@pytest.mark.slow
@needs_bwrap
def test_widget_state_and_display_updates_count_against_the_output_limit(tmp_path):
    floods = {"widget-flood": WIDGET_FLOOD, "display-flood": DISPLAY_FLOOD}
    course, returncode, stderr, peak = grade_floods(tmp_path, floods)
    assert returncode == 0, stderr[-4000:]
    assert scores(course) == {"good": 10, **{student: 10 for student in floods}}
    for student in floods:
        size = autograded(course, student).stat().st_size
        print(f"{student}: autograded notebook {size / MB:.2f} MB")
        assert size < 3 * MB
    assert peak < GRADER_BOUND, f"grader peak {peak / MB:.0f} MB"


# -- The relay alone: a fake kernel's sockets on one side, the grader's on the other. ----------

class Relay:
    """channel_relay.py between sockets this test binds (the kernel's) and connects (the
    grader's), with a small message limit."""

    def __init__(self, folder, max_bytes=100_000, memory_bytes=1024 ** 3):
        self.context = zmq.Context()
        self.session = Session(key=b"secret")
        url = {side: {channel: f"ipc://{folder}/{side}-{channel}"
                      for channel in ("shell", "iopub", "control")}
               for side in ("kernel", "grader")}
        self.kernel_shell = self._socket(zmq.ROUTER, bind=url["kernel"]["shell"])
        self.kernel_iopub = self._socket(zmq.PUB, bind=url["kernel"]["iopub"])
        self.kernel_control = self._socket(zmq.ROUTER, bind=url["kernel"]["control"])
        config = {"kernel": url["kernel"], "grader": url["grader"], "key": "secret",
                  "signature_scheme": "hmac-sha256", "max_bytes": max_bytes, "max_parts": 16,
                  "frame_bytes": memory_bytes // 8, "memory_bytes": memory_bytes,
                  "parent": os.getpid()}
        self.process = subprocess.Popen([sys.executable, "-I", RELAY], stdin=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.process.stdin.write(json.dumps(config).encode())
        self.process.stdin.close()
        self.process.stdin = None
        self.grader_shell = self._socket(zmq.DEALER, connect=url["grader"]["shell"])
        self.grader_iopub = self._socket(zmq.SUB, connect=url["grader"]["iopub"])
        self.grader_iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.parent = self.session.msg("execute_request", {"code": ""})
        self._connect_iopub()

    def _socket(self, kind, bind=None, connect=None):
        sock = self.context.socket(kind)
        sock.linger = 0
        sock.bind(bind) if bind else sock.connect(connect)
        return sock

    def _connect_iopub(self):
        """Publish until the grader's side hears (a PUB drops what no subscriber takes yet)."""
        for _ in range(100):
            self.publish("status", {"execution_state": "starting"})
            if self.grader_iopub.poll(100):
                while self.grader_iopub.poll(100):
                    self.grader_iopub.recv_multipart()
                return
        raise AssertionError("the relay never forwarded iopub")

    def publish(self, msg_type, content, buffers=None):
        self.session.send(self.kernel_iopub, msg_type, content, parent=self.parent,
                          ident=b"stream", buffers=buffers)

    def received(self, timeout=5):
        """The next iopub message the grader gets, deserialized (its signature checked)."""
        assert self.grader_iopub.poll(timeout * 1000), "nothing reached the grader"
        _, parts = self.session.feed_identities(self.grader_iopub.recv_multipart())
        return self.session.deserialize(parts)

    def close(self):
        self.process.terminate()
        _, stderr = self.process.communicate(timeout=10)
        self.context.destroy(linger=0)
        return stderr.decode()


@pytest.fixture
def short_dir():
    """A folder for socket files, whose paths must stay under 108 bytes."""
    folder = tempfile.mkdtemp(prefix="relay-test-", dir="/tmp")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def relay(short_dir):
    relays = []

    def start(**kwargs):
        relays.append(Relay(short_dir, **kwargs))
        return relays[-1]
    yield start
    for started in relays:
        if not started.context.closed:
            started.close()


def test_the_relay_forwards_messages_within_the_limit_and_notes_the_others(relay):
    r = relay(max_bytes=100_000)
    r.publish("stream", {"name": "stdout", "text": "hello"})
    assert r.received()["content"] == {"name": "stdout", "text": "hello"}
    r.publish("stream", {"name": "stdout", "text": "x" * 200_000})       # over max_bytes
    r.publish("comm_msg", {"comm_id": "c", "data": {}}, buffers=[b"x"] * 20)   # over max_parts
    for parts in (7, 27):      # topic, delimiter, signature, 4 dicts (and 20 buffers)
        note = r.received()          # signed with the kernel's key, for the same cell
        assert note["msg_type"] == "stream" and note["metadata"]["dropped_bytes"] > 0
        assert note["parent_header"]["msg_id"] == r.parent["header"]["msg_id"]
        assert f"in {parts} parts" in note["content"]["text"]
        assert "channel limit" in note["content"]["text"]
    r.publish("stream", {"name": "stdout", "text": "still here"})
    assert r.received()["content"]["text"] == "still here"
    assert "2 iopub messages over the limit" in r.close()


def test_the_relay_passes_shell_requests_and_bounded_replies(relay):
    r = relay(max_bytes=100_000)
    request = r.session.msg("kernel_info_request", {})
    r.session.send(r.grader_shell, request)
    assert r.kernel_shell.poll(5000)
    ident, parts = r.session.feed_identities(r.kernel_shell.recv_multipart())
    assert r.session.deserialize(parts)["header"]["msg_id"] == request["header"]["msg_id"]
    for size in (200_000, 10):        # the first is over the limit and dropped
        r.session.send(r.kernel_shell, "kernel_info_reply", {"padding": "x" * size},
                       parent=request, ident=ident)
    assert r.grader_shell.poll(5000)
    _, parts = r.session.feed_identities(r.grader_shell.recv_multipart())
    assert r.session.deserialize(parts)["content"] == {"padding": "x" * 10}
    assert "1 shell messages over the limit" in r.close()


def test_a_message_the_relay_cannot_hold_ends_it_within_its_memory_cap(relay):
    """3,000 frames of 512 KB (1.5 GB) in one message: the relay's memory stays under its cap,
    nothing of it reaches the grader, and the relay ends saying why (the grader then stops the
    kernel: ZeroMQ does not restore a connection cut for what was sent on it)."""
    cap = 512 * MB
    r = relay(memory_bytes=cap)
    frame = b"x" * (512 * 1024)
    r.kernel_iopub.send_multipart([b"stream"] + [frame] * 3000, copy=False)
    deadline, peak = time.monotonic() + 30, 0
    while r.process.poll() is None and time.monotonic() < deadline:
        peak = max(peak, vm_hwm(r.process.pid) or 0)
        time.sleep(0.02)
    print(f"\nrelay peak {peak / MB:.0f} MB (cap {cap // MB} MB)")
    assert r.process.returncode == CUT["iopub"]
    assert not r.grader_iopub.poll(100)
    assert "iopub connection was cut" in r.close()
    assert peak < cap


def test_the_relay_ends_with_the_grader_that_started_it(short_dir):
    starter = subprocess.run(
        [sys.executable, "-c", f"""
import json, os, subprocess, sys
config = {{"kernel": {{c: "ipc://{short_dir}/k-" + c for c in ("shell", "iopub", "control")}},
          "grader": {{c: "ipc://{short_dir}/g-" + c for c in ("shell", "iopub", "control")}},
          "key": "k", "signature_scheme": "hmac-sha256", "max_bytes": 1000, "max_parts": 8,
          "frame_bytes": 10000, "memory_bytes": 2 ** 30, "parent": os.getpid()}}
p = subprocess.Popen([sys.executable, "-I", {RELAY!r}], stdin=subprocess.PIPE,
                     stdout=subprocess.DEVNULL)
p.stdin.write(json.dumps(config).encode()); p.stdin.close()
print(p.pid)
"""], capture_output=True, text=True, timeout=30, check=True)
    pid = int(starter.stdout)
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the relay outlived the process that started it"
        time.sleep(0.1)


# -- What SandboxedExecute keeps of comm messages and display updates. -------------------------

def executor():
    ex = SandboxedExecute(max_output_bytes=2 * MB)
    ex.reset_execution_trackers()
    ex.clear_before_next_output = False      # what nbclient sets before running a cell
    return ex


def iopub(msg_type, content, buffers=()):
    return {"msg_type": msg_type, "header": {"msg_type": msg_type}, "content": content,
            "parent_header": {"msg_id": "cell"}, "metadata": {}, "buffers": list(buffers)}


def comm_open(state, buffers=()):
    return iopub("comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget",
                               "data": {"state": state,
                                        "buffer_paths": [["value"]] if buffers else []}},
                 buffers)


def test_widget_state_is_not_kept_and_comm_objects_count_against_the_output_limit():
    ex, outs = executor(), []
    text = {"_model_module": "@jupyter-widgets/controls", "_model_name": "TextModel"}
    output = {"_model_module": "@jupyter-widgets/output", "_model_name": "OutputModel",
              "outputs": [], "padding": "x" * (MB // 2)}
    for _ in range(10):
        ex.handle_comm_msg(outs, comm_open(text, [b"x" * MB]), 0)
        ex.handle_comm_msg(outs, comm_open(output), 0)
    assert ex.widget_state == {} and ex.widget_buffers == {}
    # 10 output widgets of 0.5 MB and 10 buffers of 1 MB: only the first 2 MB are taken.
    assert 0 < len(ex.comm_objects) <= 2
    assert ["output limit" in out.get("text", "") for out in outs] == [True]
    for malformed in ({}, {"_model_module": "@jupyter-widgets/output"}, None):
        executor().handle_comm_msg([], comm_open(malformed), 0)     # ignored, not raised


def test_a_display_update_costs_each_output_it_replaces():
    def display(msg_type, text):
        return iopub(msg_type, {"data": {"text/plain": text}, "metadata": {},
                                "transient": {"display_id": "d"}})

    def shown(copies, update):
        ex = executor()
        ex.nb = new_notebook(cells=[new_code_cell()])
        cell = ex.nb.cells[0]
        for _ in range(copies):
            ex.process_message(display("display_data", "x"), cell, 0)
        ex.process_message(display("update_display_data", update), cell, 0)
        return {out["data"]["text/plain"] for out in cell.outputs if "data" in out}

    assert shown(300, "y" * 10_000) == {"x"}        # 300 x 10 KB: over the limit, refused
    assert shown(10, "y" * 10_000) == {"y" * 10_000}


def test_a_message_the_relay_dropped_counts_against_the_output_limit():
    ex, outs = executor(), []
    note = iopub("stream", {"name": "stdout", "text": "[channel limit: ...]\n"})
    note["metadata"] = {"dropped_bytes": 10 * MB}
    ex.output(outs, note, None, 0)
    assert [out["text"].strip()[:13] for out in outs] == ["[output limit"]


@needs_bwrap
def test_an_honest_notebooks_outputs_pass_unchanged(tmp_path):
    """A plot (a PNG of about 100 KB) and 1 MB of text reach the notebook whole, and nothing is
    noted: the limits sit well above an honest notebook's outputs."""
    nb = new_notebook(cells=[
        new_code_cell("import numpy as np, matplotlib.pyplot as plt\n"
                      "plt.figure(figsize=(8, 6)); plt.imshow(np.random.default_rng(0)"
                      ".random((300, 300))); plt.show()"),
        new_code_cell("print('y' * 1_000_000)"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    (tmp_path / "nb").mkdir()
    nb, _ = SandboxedExecute().preprocess(nb, {"metadata": {"path": str(tmp_path / "nb")}})
    png = [out["data"]["image/png"] for out in nb.cells[0].outputs if "data" in out
           and "image/png" in out["data"]]
    assert len(png) == 1 and len(png[0]) > 50_000, nb.cells[0].outputs
    assert "".join(out.get("text", "") for out in nb.cells[1].outputs) == "y" * 1_000_000 + "\n"
    assert "limit" not in json.dumps([cell.outputs for cell in nb.cells])
