"""Text from a student's process, made safe to show an instructor in a log or on a terminal."""

import re

# C0 and C1 control characters and DEL, except tab: a terminal acts on them (escape sequences
# that move the cursor, clear the screen, retitle the window, or a carriage return that writes
# over a line), so a student could forge what the instructor reads.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: object, limit: int = 2000) -> str:
    """`text` on one line, every control character (newlines included) written as an escape
    such as \\x1b, and cut to `limit` characters."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    text = str(text)
    cut = len(text) > limit
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                        text[:limit])
    return text + (" [...]" if cut else "")


def printable_lines(data: str | bytes | bytearray, max_lines: int = 20,
                    max_bytes: int = 4000) -> tuple[list[str], int]:
    """The last lines of `data` (bytes or text), each made printable: what a log may quote of a
    student process's output. Returns (lines, total size in bytes)."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data)
    tail = raw[-max_bytes:]
    lines = [line for line in tail.splitlines() if line.strip()][-max_lines:]
    return [printable(line, 300) for line in lines], len(raw)
