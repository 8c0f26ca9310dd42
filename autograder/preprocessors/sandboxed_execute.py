"""`SandboxedExecute`: nbgrader's Execute with the student's kernel in the sandbox."""

import json
import threading

from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer

from autograder.kernel import SandboxedKernelManager


class SandboxedExecute(Execute):
    """nbgrader's Execute with the student's kernel in the sandbox and whole-notebook limits.

    Whatever happens in the kernel (it dies, it floods its output, it runs out of time), the
    notebook comes out of here with the outputs it had, so TrustedVerdict still grades it.
    """

    notebook_timeout = Integer(900, help="Seconds the whole notebook may run in its kernel "
                                         "(each cell also has Execute.timeout).").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Output a notebook may produce in all; the rest "
                                               "is dropped.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources, km=None):
        self._output_bytes, self._flood_noted, self._stopped = 0, False, ""
        who = "/".join(str(resources.get("nbgrader", {}).get(k, "?"))
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
            if self._flood_noted:
                self.log.warning("[sandbox] %s: output limit: more than %d bytes of output; the "
                                 "rest was dropped", who, self.max_output_bytes)

    def _time_is_up(self):
        self._stopped = f"time limit: the notebook ran longer than {self.notebook_timeout} s in " \
                        f"its kernel, which was stopped"
        km = getattr(self, "km", None)
        if km is not None and getattr(km, "provisioner", None) is not None:
            try:
                km.provisioner.process.kill()
            except Exception:  # noqa: BLE001 - already gone
                pass

    def _death_reason(self, exc):
        km = getattr(self, "km", None)
        if km is not None and getattr(km, "memory_limit_hit", lambda: False)():
            return "memory limit: the kernel was killed for using too much memory"
        if type(exc).__name__ == "CellTimeoutError":
            return f"time limit: a cell ran longer than {self.timeout} s and the kernel did not " \
                   f"recover"
        return f"the kernel stopped ({type(exc).__name__}: {str(exc)[:200]})"

    def output(self, outs, msg, display_id, cell_index):
        self._output_bytes += len(json.dumps(msg.get("content", {}), default=str))
        if self._output_bytes > self.max_output_bytes:
            if not self._flood_noted:
                self._flood_noted = True
                outs.append(new_output("stream", name="stdout", text=(
                    f"\n[output limit: more than {self.max_output_bytes} bytes of output; the "
                    f"rest was dropped]\n")))
            return None
        return super().output(outs, msg, display_id, cell_index)
