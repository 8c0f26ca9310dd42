"""Bounded channels between the grader and a student's kernel.

jupyter_client's client opens five ZeroMQ channels to the kernel and nbclient reads two of them
(shell and iopub), and only while a cell runs. ZeroMQ receives into memory whatever arrives, up
to 1,000 messages a socket of any size, so a kernel that sent 64 MB messages on stdin (never
read) took the grading process past 3 GB in seconds. Size limits on the grader's own sockets
are not enough: ZeroMQ limits the size of one frame, not of a message, and holds every frame of
a message before anyone can look at it (1.5 GB arrived as 3,000 frames of 512 KB).

So the grader never receives from the kernel directly. A relay process (channel_relay.py), with
its address space capped, is the only thing connected to the kernel's sockets; it forwards the
grader's requests and, to the grader, only messages within `max_message_bytes` and
`max_message_parts` (a larger iopub message becomes a one-line note in the cell's output). What
the relay cannot hold cuts the kernel's connection: the relay ends, the kernel is stopped, and
the notebook is graded with the outputs it had. On the grader's side only shell and iopub are
opened, and the manager's control socket (for shutdown), all to the relay, with small queues
and the same size limit, so the grader holds at most a few messages of bounded size per
channel. stdin and heartbeat are not opened (nothing binds their addresses): nbclient never lets
the kernel ask for input, and it asks the manager, not the heartbeat, whether the kernel lives.
"""

import json
import os
import subprocess
import sys
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Integer, default

from autograder.sandbox.files import remove_tree, scratch_dir

RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "channel_relay.py")
CUT = {"shell": 4, "iopub": 5, "control": 6}    # the relay's exit status: which connection was cut
GRADER_QUEUE = 16              # messages a grader's socket holds before the relay must wait
RELAY_PORTS = {"shell": 1, "iopub": 2, "control": 3, "stdin": 4, "hb": 5}
RELAYED = ("shell", "iopub", "control")     # stdin and hb lead nowhere: nothing binds them
# An output a notebook may keep is at most SandboxedExecute.max_output_bytes (2 MB) in all, so a
# message four times that could never be kept whole anyway; an honest plot (a PNG of a few
# hundred KB, base64 in JSON) or a long print is far below it.
DEFAULT_MAX_BYTES = 8_000_000


def bounded_context(max_bytes: int) -> zmq.asyncio.Context:
    """A ZeroMQ context whose every socket refuses frames over max_bytes (the connection is
    cut before such a frame is stored) and queues at most GRADER_QUEUE messages."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, max_bytes)
    context.setsockopt(zmq.RCVHWM, GRADER_QUEUE)
    context.setsockopt(zmq.LINGER, 100)
    return context


class BoundedKernelClient(AsyncKernelClient):
    """The grader's client: shell and iopub only, on sockets with bounded size and queue."""

    @default("context")
    def _bounded_context(self) -> zmq.asyncio.Context:
        self._created_context = True
        return bounded_context(getattr(self.parent, "max_message_bytes", DEFAULT_MAX_BYTES))

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = False,
                       hb: bool = False, control: bool = False) -> None:
        super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=hb, control=control)



class BoundedChannelsKernelManager(AsyncKernelManager):
    """A kernel manager whose clients reach the kernel only through a capped relay process."""

    max_message_bytes = Integer(DEFAULT_MAX_BYTES, help="Largest message (all its parts) the "
                                "grader takes from a student's kernel; a larger one is dropped, "
                                "with a note in the cell's output.").tag(config=True)
    max_message_parts = Integer(64, help="Most parts (ZeroMQ frames) of a message the grader "
                                "takes from a student's kernel; a Jupyter message has 6 plus its "
                                "binary buffers.").tag(config=True)
    relay_memory_bytes = Integer(1024 ** 3, help="Address space of the relay process that reads "
                                 "what a student's kernel sends; what it cannot hold stops the "
                                 "kernel. An eighth of it is the largest frame it reads."
                                 ).tag(config=True)
    client_class = DottedObjectName("autograder.grading.kernel_channels.BoundedKernelClient")

    _relay = _relay_dir = _relay_stderr = None
    relay_report = ""              # what the relay dropped, said when it stopped
    channel_limit_hit = False      # the relay ended by itself: the kernel sent more than it holds
    channel_cut = None             # the channel whose connection that cut ("iopub": an output)

    @default("context")
    def _bounded_context(self) -> zmq.asyncio.Context:
        self._created_context = True
        return bounded_context(self.max_message_bytes)

    def _relay_url(self, channel: str) -> str:
        return f"ipc://{self._relay_dir}/relay-{RELAY_PORTS[channel]}"

    def _start_relay(self) -> None:
        """Start the relay to this manager's kernel (its ports are known once it is launched)."""
        self._relay_dir = scratch_dir("relay", short=True)
        self._relay_stderr = os.path.join(self._relay_dir, "stderr.txt")
        config = {"kernel": {channel: self._make_url(channel) for channel in RELAYED},
                  "grader": {channel: self._relay_url(channel) for channel in RELAYED},
                  "key": self.session.key.decode("ascii"),
                  "signature_scheme": self.session.signature_scheme,
                  "max_bytes": self.max_message_bytes, "max_parts": self.max_message_parts,
                  # A frame it could not hold a few of cuts the kernel's connection unread; a
                  # smaller one over max_bytes is read and dropped, and the kernel goes on.
                  "frame_bytes": self.relay_memory_bytes // 8,
                  "memory_bytes": self.relay_memory_bytes, "parent": os.getpid()}
        with open(self._relay_stderr, "wb") as stderr:
            self._relay = subprocess.Popen(
                [sys.executable, "-I", RELAY], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=stderr,
                env={"PATH": os.environ.get("PATH", ""), "MALLOC_ARENA_MAX": "2"})
        stdin = self._relay.stdin
        assert stdin is not None   # stdin=PIPE
        stdin.write(json.dumps(config).encode())
        stdin.close()

    def stop_relay(self) -> None:
        """Stop the relay (idempotent) and keep what it said it dropped in relay_report."""
        relay, self._relay = self._relay, None
        if relay is not None:
            self.channel_limit_hit = self.channel_limit_hit or relay.poll() is not None
            relay.terminate()
            try:
                relay.wait(2)
            except subprocess.TimeoutExpired:
                relay.kill()
                relay.wait()
            self.relay_report = self._read_relay_stderr(relay.returncode)
            self.channel_cut = {status: channel for channel, status in CUT.items()}.get(
                relay.returncode)
        if self._relay_dir:
            remove_tree(self._relay_dir)
            self._relay_dir = None

    def _read_relay_stderr(self, returncode: int | None) -> str:
        try:
            with open(self._relay_stderr or "", "rb") as f:
                said = f.read(2000).decode(errors="replace").strip()
        except OSError:
            said = ""
        if returncode not in (0, -15) and not said:
            said = f"the relay ended with status {returncode} (its memory limit is " \
                   f"{self.relay_memory_bytes} bytes)"
        return " ".join(said.split())

    def relay_lost(self) -> bool:
        """Whether the relay ended by itself (a flood it could not hold): the kernel is cut off."""
        if self._relay is not None and self._relay.poll() is not None:
            self.channel_limit_hit = True
        return self.channel_limit_hit

    # AsyncKernelManager.client itself overrides KernelManager's (a blocking client) this way.
    def client(self, **kwargs: Any) -> AsyncKernelClient:  # type: ignore[override]
        if self._relay_dir is None:
            raise RuntimeError("no relay to the kernel: a client is made after start_kernel()")
        relay = {"transport": "ipc", "ip": f"{self._relay_dir}/relay",
                 **{f"{channel}_port": port for channel, port in RELAY_PORTS.items()}}
        return super().client(**{**relay, **kwargs})

    def _connect_control_socket(self) -> None:
        if self._control_socket is None:
            self._control_socket = self.context.socket(zmq.DEALER)
            self._control_socket.linger = 100
            self._control_socket.connect(self._relay_url("control"))

    async def _async_post_start_kernel(self, **kw: Any) -> None:
        if self._relay is None:
            self._start_relay()
        await super()._async_post_start_kernel(**kw)

    async def _async_is_alive(self) -> bool:
        # Asked by the client while a cell runs. A kernel whose relay is gone can send nothing
        # more, so it is stopped rather than waited for until the cell's time limit.
        if self.relay_lost():
            process = getattr(self.provisioner, "process", None)
            if process is not None and process.poll() is None:
                process.kill()
            return False
        return await super()._async_is_alive()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.stop_relay()
