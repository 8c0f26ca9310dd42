"""The doctor's probes: run INSIDE the sandbox, one function per promise, each doing the harmful
thing the promise rules out (bounded, so that a limit that does not hold cannot hurt the
machine). `python -I probes.py NAME ARGS...`; each ends by printing `RESULT {json}` unless the
sandbox stops it first. autograder/sandbox/promises.py runs them and judges what they printed
(`python -m autograder doctor`).
"""

import json
import os
import socket
import sys
import time


def say(**result: object) -> None:
    print("RESULT " + json.dumps(result), flush=True)


def memory(cap: str) -> None:
    blocks, got = [], 0
    try:
        while got < int(cap):
            blocks.append(b"\x01" * (16 << 20))   # written, so really in memory
            got += 16 << 20
            print("allocated", got, flush=True)
    except MemoryError:
        return say(stopped=True, reached=got, how="MemoryError")
    say(stopped=False, reached=got)


def processes(cap: str) -> None:
    children = 0
    try:
        while children < int(cap):
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
    except OSError as exc:
        return say(stopped=True, reached=children, how=exc.strerror)
    say(stopped=False, reached=children)


def leftover(marker: str) -> None:
    if os.fork() == 0:        # a daemon: its own session, its parent gone
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", [marker, "60"])
        os._exit(0)
    time.sleep(0.5)
    say(started=True)


def network(port: str) -> None:
    # Only this machine's loopback is tried: the probe never sends anything off the machine.
    # That no other address is reachable is read from the interfaces the sandbox has.
    reached = {}
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()
        reached[f"127.0.0.1:{port}"] = "connected"
    except OSError as exc:
        reached[f"127.0.0.1:{port}"] = exc.strerror or str(exc)
    say(reached=reached, interfaces=[name for _, name in socket.if_nameindex()])


def read(*paths: str) -> None:
    seen = []
    for path in paths:
        if os.path.exists(path):
            seen.append(path)
    say(seen=seen)


def write(name: str, *dirs: str) -> None:
    wrote = []
    for folder in dirs:
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write("course doctor")
            wrote.append(folder)
        except OSError:
            pass
    say(wrote=wrote)


def file_size(cap: str) -> None:
    chunk, written = b"x" * (1 << 20), 0
    try:
        with open("big", "wb", buffering=0) as f:
            while written < int(cap):
                written += f.write(chunk)
    except OSError as exc:
        return say(stopped=True, reached=written, how=exc.strerror)
    say(stopped=False, reached=written)


def cpu(cap: str) -> None:
    while time.process_time() < float(cap):
        pass
    say(stopped=False, seconds=time.process_time())


def cpu_share(workers: str, seconds: str) -> None:
    # Busy processes, each in a session of its own, for a fixed wall time: the CPU they got.
    start, pids = time.monotonic(), []
    for _ in range(int(workers)):
        pid = os.fork()
        if pid == 0:
            os.setsid()
            while time.monotonic() < start + float(seconds):
                pass
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    times = os.times()
    say(cpu=times.children_user + times.children_system, wall=time.monotonic() - start)


def scratch(cap: str, chunk: str) -> None:
    # Files below the file-size limit, until cap bytes or a refusal, in each writable place.
    written = {}
    for name, folder in (("home", os.environ["HOME"]), ("/tmp", "/tmp"), ("/dev/shm", "/dev/shm")):
        total, how = 0, None
        try:
            while total < int(cap):
                with open(os.path.join(folder, f"fill-{total}"), "wb") as f:
                    f.write(b"x" * int(chunk))
                total += int(chunk)
        except OSError as exc:
            how = exc.strerror
        written[name] = [total, how]
    say(written=written)


def uid() -> None:
    print("READY", flush=True)
    sys.stdin.read()          # until the doctor has looked at this process from outside
    say(uid=os.getuid())


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
