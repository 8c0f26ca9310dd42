"""The browser behind the browser tests: Debian's Chromium, offline, watched for every request."""

import functools
import http.server
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent / "output"

# Debian's package (`apt-get install chromium chromium-driver`), never a browser downloaded by
# `playwright install`: the machines reach the package registries and nothing else.
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium phones Google hosts at start and fails.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1"}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, pointed at Debian's Chromium with a temp profile."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium chromium-driver` "
                    "(Playwright's own browser downloads are not used here)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def screenshots():
    """The folder a failing browser test leaves its screenshots in (tests/browser/output/)."""
    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


@dataclass
class BrowserLog:
    """What the pages of one browser context asked for and complained about."""
    requests: list = field(default_factory=list)        # every URL requested
    external: list = field(default_factory=list)        # requests to another host: aborted
    http_errors: list = field(default_factory=list)     # "404 http://127.0.0.1:.../x.png"
    console_errors: list = field(default_factory=list)  # (text, url) of console.error, exceptions


@pytest.fixture
def offline_context(new_context):
    """A factory of browser contexts that abort, and log, every request leaving 127.0.0.1."""

    def make():
        context = new_context()
        log = BrowserLog()

        def leaves_the_machine(url):
            return urlsplit(url).hostname not in LOCAL_HOSTS

        def abort(route):
            log.external.append(route.request.url)
            route.abort()

        context.route(leaves_the_machine, abort)
        context.on("request", lambda request: log.requests.append(request.url))
        context.on("response", lambda response: response.status >= 400 and log.http_errors.append(
            f"{response.status} {response.url}"))
        context.on("console", lambda message: message.type == "error" and log.console_errors.append(
            (message.text, message.location.get("url", ""))))
        context.on("weberror", lambda error: log.console_errors.append(
            (f"uncaught {error.error}", error.page.url if error.page else "")))
        return context, log

    return make


@pytest.fixture
def serve():
    """serve(folder) -> base URL of a static HTTP server of `folder` on 127.0.0.1 (free port)."""
    servers = []

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    def start(folder):
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def base_url():
    # pytest-playwright's fallback of this fixture trips a pytest 9 deprecation warning; the
    # tests here serve their own sites on free ports and pass full URLs.
    return None
