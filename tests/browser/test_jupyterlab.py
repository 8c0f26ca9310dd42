"""A student's JupyterLab: open the softmax exercises, run them, write softmax, validate."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "release" / "softmax" / "exercises.ipynb"
KERNEL_READY = "Python 3 (ipykernel) | Idle"      # JupyterLab's status bar once the kernel is up
SOFTMAX = '''def softmax(z):
    """Softmax of z along the last axis."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''
# Every wait is on a concrete state of the page; these bound them on a slow machine.
UI_TIMEOUT_MS = 90_000
VALIDATE_TIMEOUT_MS = 180_000     # nbgrader runs the whole notebook again, TensorFlow import too


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab on 127.0.0.1 serving a folder with only the student notebook, as a student
    has after downloading it: no course checkout, no nbgrader_config.py, fresh settings."""
    if not NOTEBOOK.is_file():
        pytest.fail(f"{NOTEBOOK.relative_to(ROOT)} is missing: run `make release` "
                    "(or `make test`, which makes it)")
    home = tmp_path / "student"
    home.mkdir()
    shutil.copy(NOTEBOOK, home / "exercises.ipynb")
    jupyter = tmp_path / "jupyter"
    # No news toast over the notebook, and no request for news or updates from the server.
    settings = jupyter / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}   # a student's kernel
    env.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_DATA_DIR": str(jupyter / "data"),
        "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(jupyter / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"),
        "IPYTHONDIR": str(jupyter / "ipython"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    })
    port, token = free_port(), secrets.token_hex(16)
    log_path = tmp_path / "jupyterlab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
             "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}api/status?token={token}", timeout=5)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
    print(f"JupyterLab log: {log_path}")
    yield {"url": url, "token": token, "home": home, "log": log_path}

    # Stop the server, which shuts down its kernels; then end whatever of ours is left (the
    # kernels run in sessions of their own, so they are found as the server's children).
    children = psutil.Process(server.pid).children(recursive=True)
    try:
        request = urllib.request.Request(f"{url}api/shutdown?token={token}", method="POST")
        urllib.request.urlopen(request, timeout=10)
        server.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def cell_index(notebook, grade_id):
    cells = json.loads(Path(notebook).read_text())["cells"]
    return next(i for i, cell in enumerate(cells)
                if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def visible_checks(notebook, grade_id):
    """How many `expect_close` calls the student sees in a test cell."""
    cell = json.loads(Path(notebook).read_text())["cells"][cell_index(notebook, grade_id)]
    return "".join(cell["source"]).count("expect_close(")


def test_student_runs_writes_and_validates_softmax(jupyterlab, offline_context, screenshots):
    context, log = offline_context()
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    notebook = jupyterlab["home"] / "exercises.ipynb"
    step = iter(range(1, 100))

    def shot(name):
        path = screenshots / f"jupyterlab-{next(step)}-{name}.png"
        page.screenshot(path=path)
        print(f"screenshot: {path}")

    try:
        # 1. Open the notebook from the file browser; wait for its kernel.
        page.goto(f"{jupyterlab['url']}lab?token={jupyterlab['token']}")
        page.dblclick('.jp-DirListing-item[title*="exercises.ipynb"]')
        status = page.locator(".jp-StatusBar-TextItem", has_text="Python 3 (ipykernel)")
        expect(status).to_have_text(KERNEL_READY, timeout=UI_TIMEOUT_MS)
        cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
        solution = cells.nth(cell_index(notebook, "softmax"))
        test = cells.nth(cell_index(notebook, "test_softmax"))
        shot("opened")

        # 2. Run > Run All Cells on the untouched notebook: a readable failure, no traceback.
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        output = test.locator(".jp-OutputArea")
        expect(output).to_contain_text("Test failed: softmax is not written yet",
                                       timeout=UI_TIMEOUT_MS)
        expect(status).to_have_text(KERNEL_READY)
        # text_content, not inner_text: JupyterLab stops rendering cells scrolled far out of
        # view (Run All ends at the last cell), and inner_text then reads nothing.
        failure = output.text_content()
        assert "Traceback" not in failure and "NotImplementedError()" in failure
        assert len(failure.strip().splitlines()) <= 2, failure
        test.scroll_into_view_if_needed()
        shot("run-all-fails-readably")

        # 3. Write softmax in its cell; run it and the test cell below (Shift+Enter twice).
        solution.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(SOFTMAX)        # as pasted: no auto-indent on the way in
        expect(solution.locator(".cm-content")).to_contain_text("np.exp(z - z.max(")
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        expect(output).to_contain_text("passed: softmax([1., 2., 3.])", timeout=UI_TIMEOUT_MS)
        expect(status).to_have_text(KERNEL_READY)
        passed = output.text_content()
        assert passed.count("passed: softmax(") == visible_checks(notebook, "test_softmax"), passed
        assert "Test failed" not in passed
        solution.scroll_into_view_if_needed()
        shot("softmax-passes")

        # 4. nbgrader's Validate button: it saves, runs the notebook again and reports.
        page.click(".jp-NotebookPanel-toolbar .validate-button")
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Validation Results", timeout=VALIDATE_TIMEOUT_MS)
        report = dialog.inner_text()
        shot("validate-reports")
        assert "sparse_categorical_crossentropy is not written yet" in report, report
        assert "build_digit_classifier is not written yet" in report, report
        assert "softmax is not written yet" not in report, report
        assert "np.exp(z - z.max(" in notebook.read_text()    # Validate saved the student's code
        dialog.get_by_role("button", name="Ok").click()
        expect(dialog).to_have_count(0)
    except Exception:
        shot("failed")
        print(f"JupyterLab log tail:\n{jupyterlab['log'].read_text()[-3000:]}")
        raise
    assert log.external == [], f"requests leaving 127.0.0.1: {log.external}"
    print("console errors:", log.console_errors)
