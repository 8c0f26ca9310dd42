"""`SandboxedExecute`: nbgrader's Execute with the student's kernel in the sandbox."""

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from jupyter_client.manager import KernelManager
from nbclient.exceptions import CellTimeoutError
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, default

from autograder.grading.kernel import SandboxedKernelManager

KERAS = re.compile(r"\b(keras|tensorflow)\b")
# Names a cell defines: functions and classes, and top-level assignments (`model = ...`).
DEFINED = re.compile(r"^\s*(?:def|class)\s+(\w+)|^(\w+)\s*=(?!=)", re.MULTILINE)


class SandboxedExecute(Execute):
    """nbgrader's Execute with the student's kernel in the sandbox and whole-notebook limits.

    Whatever happens in the kernel (it dies, it floods its output, it runs out of time), the
    notebook comes out of here with the outputs it had, so TrustedVerdict still grades it, and
    the kernel leaves nothing behind.

    Each cell's time budget is what it needs: a cell that uses Keras (names keras or
    tensorflow, or uses a name defined by a cell that does) gets `keras_timeout`, for importing
    TensorFlow and training; every other cell, NumPy code, gets Execute.timeout. So a loop that
    never ends costs seconds, not minutes: the first cell that runs out of time is interrupted
    and the notebook goes on; a second one ends the notebook (its kernel may ignore interrupts).
    """

    notebook_timeout = Integer(900, help="Seconds the whole notebook may run in its kernel "
                                         "(each cell also has its own budget).").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Output a notebook may produce in all; the rest "
                                               "is dropped.").tag(config=True)
    keras_timeout = Integer(300, help="Seconds a cell that uses Keras may run (other cells "
                                      "have Execute.timeout).").tag(config=True)

    # Widget state is not kept: InertOutputs drops it from the stored notebook anyway (a page
    # would load a widget manager for it), and kept while the kernel runs it cost the grader
    # whatever the kernel sent (hundreds of MB of comm_open state), past the output limit.
    store_widget_state = Bool(False, help="Keep the kernel's widget state (nbclient's "
                                          "option).").tag(config=True)

    # Per notebook, set again by preprocess.
    _output_bytes, _flood_noted, _note_shown, _who = 0, False, False, "?"
    _keras_names: set[str]        # names defined by cells that use Keras

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    @default("shutdown_kernel")
    def _default_shutdown_kernel(self) -> str:
        # Every output is in once the last cell ran; a graceful shutdown would then wait for the
        # kernel to answer and exit (a few tenths of a second per notebook), and the sandbox
        # kills its whole process group anyway.
        return "immediate"

    @default("timeout_func")
    def _default_timeout_func(self) -> Callable[[NotebookNode], int]:
        return self.cell_timeout

    def cell_timeout(self, cell: NotebookNode) -> int:
        """Seconds this cell may run (nbclient asks before running each cell)."""
        source = cell.get("source", "")
        words = set(re.findall(r"\w+", source))
        if KERAS.search(source) or words & self._keras_names:
            self._keras_names.update(a or b for a, b in DEFINED.findall(source))
            self._cell_budget = self.keras_timeout
        else:
            self._cell_budget = self.timeout
        return self._cell_budget

    def create_kernel_manager(self) -> SandboxedKernelManager:
        km = super().create_kernel_manager()
        self._managers.append(km)
        return km

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any],
                   km: KernelManager | None = None) -> tuple[NotebookNode, dict[str, Any]]:
        self._output_bytes, self._flood_noted, self._note_shown = 0, False, False
        self._stopped = ""
        self._keras_names, self._cell_budget = set(), self.timeout
        self._managers: list[SandboxedKernelManager] = []
        self._timeouts = 0
        self._who = who = "/".join(str(resources.get("nbgrader", {}).get(k, "?"))
                                   for k in ("student", "assignment", "notebook"))
        timer = threading.Timer(self.notebook_timeout, self._time_is_up)
        timer.daemon = True
        timer.start()
        try:
            return super().preprocess(nb, resources, km=km)
        except Exception as exc:  # noqa: BLE001 - a dead or stopped kernel ends execution only
            reason = self._stopped or self._death_reason(exc)
            self.log.warning("[sandbox] %s: %s; the notebook is graded with the outputs it had",
                             who, reason)
            return self.nb if getattr(self, "nb", None) is not None else nb, resources
        finally:
            timer.cancel()
            # nbclient cleans up after a normal run; not after a kernel that failed to start.
            for manager in self._managers:
                getattr(manager, "stop_relay", lambda: None)()
                getattr(manager, "release", lambda: None)()
                if getattr(manager, "relay_report", ""):
                    self.log.warning("[sandbox] %s: channel limit: %s", who, manager.relay_report)
            if self._flood_noted:
                self.log.warning("[sandbox] %s: output limit: more than %d bytes of output; the "
                                 "rest was dropped", who, self.max_output_bytes)

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None,
                                    ) -> dict[str, Any] | None:
        self._timeouts += 1
        if self._timeouts == 1:
            self.log.warning("[sandbox] %s: time limit: a cell ran longer than %s s and was "
                             "interrupted; the notebook goes on", self._who, timeout)
            return await super()._async_handle_timeout(timeout, cell)
        self._stopped = f"time limit: a second cell ran longer than its {timeout} s (the kernel " \
                        f"may ignore interrupts); the kernel was stopped"
        self._kill_kernel()
        # Typed for a cell, it words a missing one too ("Cell contents not found").
        raise CellTimeoutError.error_from_timeout_and_cell("Cell execution timed out", timeout,
                                                           cell)  # type: ignore[arg-type]

    def _time_is_up(self) -> None:
        self._stopped = f"time limit: the notebook ran longer than {self.notebook_timeout} s in " \
                        f"its kernel, which was stopped"
        self._kill_kernel()

    def _kill_kernel(self) -> None:
        km = getattr(self, "km", None)
        if km is not None and getattr(km, "provisioner", None) is not None:
            try:
                km.provisioner.process.kill()
            except Exception:  # noqa: BLE001 - already gone
                pass

    def _death_reason(self, exc: BaseException) -> str:
        # nbclient has let go of its manager (self.km) by now: the ones this made are asked.
        if any(getattr(manager, "memory_limit_hit", lambda: False)() for manager in self._managers):
            return "memory limit: the kernel was killed for using too much memory"
        if any(getattr(manager, "channel_cut", None) == "iopub" for manager in self._managers):
            # Output no message can carry: the notebook's output limit was long passed, so what
            # the later cells would print would have been dropped anyway.
            self._flood_noted = True
            return "output limit: the kernel sent output too large for its channel to hold, " \
                   "and was stopped"
        if any(getattr(manager, "channel_limit_hit", False) for manager in self._managers):
            return "channel limit: the kernel sent more than its channels hold, and was stopped"
        if type(exc).__name__ == "CellTimeoutError" and "IOPub" in str(exc):
            return f"the output of a cell did not end within {self.iopub_timeout} s of its " \
                   f"reply (the kernel's messages were lost, or it stopped sending)"
        if type(exc).__name__ == "CellTimeoutError":
            return f"time limit: a cell ran longer than {self._cell_budget} s and the kernel " \
                   f"did not recover"
        return f"the kernel stopped ({type(exc).__name__}: {str(exc)[:200]})"

    def _within_limit(self, size: int, outs: list[NotebookNode] | None = None) -> bool:
        """Count `size` bytes against the output limit; False (and a note) once past it."""
        self._output_bytes += size
        if self._output_bytes <= self.max_output_bytes:
            return True
        self._flood_noted = True
        if outs is not None and not self._note_shown:     # in the first cell output can go
            self._note_shown = True
            outs.append(new_output("stream", name="stdout", text=(
                f"\n[output limit: more than {self.max_output_bytes} bytes of output; the "
                f"rest was dropped]\n")))
        return False

    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        # A message the channel relay dropped for its size comes as a note saying how large it
        # was: that much output counts (a flood of large writes is an output flood).
        dropped = (msg.get("metadata") or {}).get("dropped_bytes", 0)
        dropped = dropped if isinstance(dropped, int) and dropped > 0 else 0
        if not self._within_limit(_size(msg) + dropped, outs):
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id: str, msg: dict[str, Any]) -> None:
        # An update replaces every output shown under its display id: it costs its size as
        # many times (a thousand tiny outputs updated with 2 MB each would store 2 GB).
        shown = sum(len(at) for at in self._display_id_map.get(display_id, {}).values())
        if shown and not self._within_limit(shown * _size(msg)):
            return
        super()._update_display_id(display_id, msg)

    def handle_comm_msg(self, outs: list[NotebookNode], msg: dict[str, Any],
                        cell_index: int) -> None:
        # What nbclient keeps of a comm counts against the output limit like an output: each
        # comm_open (an output widget keeps its state), and state updates if widget state is
        # kept. Past the limit, comm messages are ignored. A malformed one is ignored too,
        # rather than ending the notebook.
        kept = msg["msg_type"] == "comm_open" or self.store_widget_state
        if kept and not self._within_limit(_size(msg), outs):
            return
        try:
            super().handle_comm_msg(outs, msg, cell_index)
        except (KeyError, TypeError, AttributeError, AssertionError, IndexError, ValueError) \
                as exc:
            self.log.debug("[sandbox] %s: comm message ignored (%s: %s)", self._who,
                           type(exc).__name__, str(exc)[:200])


def _size(msg: dict[str, Any]) -> int:
    """Bytes of a kernel message's content and binary buffers, as a notebook would store them."""
    content = len(json.dumps(msg.get("content", {}), default=str))
    return content + sum(len(buffer) for buffer in msg.get("buffers") or ())
