"""Adapters a check wraps around a call of the student's function inside the sandbox, so that
what crosses back is the fact being judged rather than the call's own result:
NamedCallable(adapters, "exception_raised") as a Call's adapter.

A helper module: plain Python, no autograder imports, so that it travels into the sandbox as a
companion file of the child (autograder/sandboxed/child.py). `__all__` lists what may be named.
"""

from collections.abc import Callable
from typing import Any

__all__ = ["exception_raised"]


def exception_raised(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The name of the exception fn(*args, **kwargs) raises, or "no exception": a call that
    must raise (an unknown activation's name) is judged by what it raised."""
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - which exception it was is the answer
        return type(exc).__name__
    return "no exception"
