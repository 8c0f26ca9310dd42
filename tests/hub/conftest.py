"""The hub test drives Chromium exactly as the browser tests do: their fixtures, imported."""

from tests.browser.conftest import (  # noqa: F401 - pytest finds fixtures by name here
    base_url,
    browser_context_args,
    browser_type_launch_args,
    offline_context,
    screenshots,
)
