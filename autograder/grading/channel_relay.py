"""The relay between a student's kernel and the grader: the only process that reads what the
kernel sends, with bounded memory (see autograder/grading/kernel_channels.py for why).

Run as `python -I channel_relay.py` (standard library and pyzmq only, nothing of the course),
its configuration as one JSON object on stdin. It forwards the grader's requests (shell and
control) to the kernel, and to the grader the kernel's shell replies and iopub messages, each
within `max_bytes` and `max_parts`. A message over either is not forwarded: on iopub, a short
signed stream message for the same cell says so instead. What the kernel sends on control is
read and thrown away (nobody waits for it).

Its address space is capped at `memory_bytes`, and a frame over `frame_bytes` is refused
unread. A frame or a message it cannot hold cuts the kernel's connection, which ZeroMQ does not
restore: the relay then says so and ends (status CUT), and the grader stops the kernel. It ends
too when the grader that started it is gone, and on SIGTERM. What it dropped goes to stderr.
"""

import datetime
import hmac
import json
import os
import resource
import signal
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

DELIMITER = b"<IDS|MSG>"
PARENT_BYTES = 65_536          # of a dropped message, a parent header longer than this is ignored
BATCH = 64                     # messages taken from one socket before looking at the others
KERNEL_QUEUE = 4               # messages from the kernel held here before it must wait
# A lost connection that ZeroMQ retries within this many seconds was closed at the kernel's end
# (it stopped); one it does not retry was cut for what the kernel sent.
RETRY_SECONDS = 0.5
# Exit status: that connection to the kernel was cut (kernel_channels.CUT, the same).
CUT = {"shell": 4, "iopub": 5, "control": 6}


class Relay:
    def __init__(self, config: dict[str, Any]) -> None:
        self.max_bytes = config["max_bytes"]
        self.max_parts = config["max_parts"]
        self.frame_bytes = config["frame_bytes"]
        self.parent = config["parent"]        # the grader's pid: the relay ends when it is gone
        self.key = config["key"].encode()
        self.digest = config["signature_scheme"].split("-", 1)[1]
        self.session = uuid.uuid4().hex
        self.dropped: dict[str, tuple[int, int]] = {}   # what: (messages, bytes)
        self.client: bytes | None = None   # the grader's shell socket, as the ROUTER here names it
        self.lost: dict[str, float] = {}   # channel: when its connection to the kernel went
        self.context = zmq.Context()
        kernel, grader = config["kernel"], config["grader"]
        self.k_shell = self._socket(zmq.DEALER, connect=kernel["shell"])
        self.k_iopub = self._socket(zmq.SUB, connect=kernel["iopub"])
        self.k_control = self._socket(zmq.DEALER, connect=kernel["control"])
        self.g_shell = self._socket(zmq.ROUTER, bind=grader["shell"])
        self.g_iopub = self._socket(zmq.PUB, bind=grader["iopub"])
        self.g_control = self._socket(zmq.ROUTER, bind=grader["control"])
        self.monitors: dict[zmq.Socket, str] = {}
        for channel, sock in (("shell", self.k_shell), ("iopub", self.k_iopub),
                              ("control", self.k_control)):
            events = zmq.EVENT_DISCONNECTED | zmq.EVENT_CONNECT_RETRIED
            self.monitors[sock.get_monitor_socket(events)] = channel

    def _socket(self, kind: int, connect: str | None = None, bind: str | None = None,
                ) -> zmq.Socket:
        sock = self.context.socket(kind)
        sock.linger = 0
        if connect:
            # Set before connecting: a frame over frame_bytes cuts the connection before it is
            # stored, and the kernel waits while this holds KERNEL_QUEUE messages.
            sock.setsockopt(zmq.MAXMSGSIZE, self.frame_bytes)
            sock.setsockopt(zmq.RCVHWM, KERNEL_QUEUE)
            if kind == zmq.SUB:
                sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(connect)
        else:
            assert bind is not None   # every socket either connects or binds
            sock.bind(bind)
        return sock

    def run(self) -> int:
        """Relay until the grader is gone (0) or a connection to the kernel is cut (CUT)."""
        handlers = {self.g_shell: self.to_kernel_shell, self.g_control: self.to_kernel_control,
                    self.k_shell: self.to_grader_shell, self.k_iopub: self.to_grader_iopub,
                    self.k_control: self.drop}
        poller = zmq.Poller()
        for sock in (*handlers, *self.monitors):
            poller.register(sock, zmq.POLLIN)
        while os.getppid() == self.parent:
            for sock, _ in poller.poll(100 if self.lost else 1000):
                if sock in self.monitors:
                    self.watch(self.monitors[sock], recv_monitor_message(sock)["event"])
                    continue
                for _ in range(BATCH):
                    try:
                        parts = sock.recv_multipart(zmq.NOBLOCK, copy=False)
                    except zmq.Again:
                        break
                    handlers[sock](parts)
            for channel, since in self.lost.items():
                if time.monotonic() - since > RETRY_SECONDS:
                    print(f"the kernel's {channel} connection was cut: it sent a frame over "
                          f"{self.frame_bytes} bytes, or a message this relay could not hold",
                          file=sys.stderr)
                    return CUT[channel]
        return 0

    def watch(self, channel: str, event: int) -> None:
        if event == zmq.EVENT_DISCONNECTED:
            self.lost.setdefault(channel, time.monotonic())
        elif event == zmq.EVENT_CONNECT_RETRIED:
            self.lost.pop(channel, None)

    def fits(self, parts: list[zmq.Frame], what: str) -> bool:
        size = sum(len(part) for part in parts)
        if len(parts) <= self.max_parts and size <= self.max_bytes:
            return True
        self.count(what, size)
        return False

    def count(self, what: str, size: int = 0) -> None:
        number, total = self.dropped.get(what, (0, 0))
        self.dropped[what] = (number + 1, total + size)

    def send(self, sock: zmq.Socket, parts: Sequence[zmq.Frame | bytes], what: str) -> None:
        try:
            sock.send_multipart(parts, zmq.NOBLOCK, copy=False)
        except zmq.Again:
            self.count(what)

    def to_kernel_shell(self, parts: list[zmq.Frame]) -> None:
        if len(parts) > 1:
            self.client = parts[0].bytes
            self.send(self.k_shell, parts[1:], "shell requests the kernel did not take")

    def to_kernel_control(self, parts: list[zmq.Frame]) -> None:
        if len(parts) > 1:
            self.send(self.k_control, parts[1:], "control requests the kernel did not take")

    def to_grader_shell(self, parts: list[zmq.Frame]) -> None:
        if self.client is not None and self.fits(parts, "shell messages over the limit"):
            self.send(self.g_shell, [self.client, *parts], "shell messages the grader did not take")

    def to_grader_iopub(self, parts: list[zmq.Frame]) -> None:
        if self.fits(parts, "iopub messages over the limit"):
            self.send(self.g_iopub, parts, "iopub messages the grader did not take")
        else:
            note = self.note(parts)
            if note:
                self.send(self.g_iopub, note, "iopub messages the grader did not take")

    def drop(self, parts: list[zmq.Frame]) -> None:
        pass        # control replies (to shutdown requests), or a flood: nobody waits for either

    def note(self, parts: list[zmq.Frame]) -> list[bytes] | None:
        """A stream message, in reply to the dropped message's parent, saying it was dropped."""
        frames = [part.bytes if len(part) <= PARENT_BYTES else b"" for part in parts[:8]]
        try:
            parent = json.loads(frames[frames.index(DELIMITER) + 3])
        except (ValueError, IndexError):
            return None
        if not isinstance(parent, dict):
            return None
        size = sum(len(part) for part in parts)
        header = {"msg_id": uuid.uuid4().hex, "msg_type": "stream", "username": "grader",
                  "session": self.session, "version": "5.3",
                  "date": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        text = (f"\n[channel limit: the kernel sent a message of {size} bytes in {len(parts)} "
                f"parts; one over {self.max_bytes} bytes or {self.max_parts} parts is dropped]\n")
        # The grader counts the dropped bytes against its output limit, as if they had come.
        body = [json.dumps(part).encode() for part in
                (header, parent, {"dropped_bytes": size}, {"name": "stdout", "text": text})]
        signature = hmac.new(self.key, digestmod=self.digest)
        for frame in body:
            signature.update(frame)
        return [b"stream", DELIMITER, signature.hexdigest().encode() if self.key else b"", *body]

    def report(self) -> str:
        return "; ".join(f"{number} {what} ({total} bytes)" if total else f"{number} {what}"
                         for what, (number, total) in self.dropped.items())


def main() -> None:
    config = json.loads(sys.stdin.read(1_000_000))
    limit = config["memory_bytes"]
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    relay = Relay(config)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    status = 0
    try:
        status = relay.run()
    except MemoryError:
        print(f"memory limit: what the kernel sent did not fit in {limit} bytes", file=sys.stderr)
        status = 3
    finally:
        if relay.dropped:
            print(relay.report(), file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
