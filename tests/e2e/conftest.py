"""A real studio for browser tests: `manage.py serve` on a fresh data folder, and Chromium."""

import pytest

from tests.conftest import chromium_or_skip
from tests.support.processes import make_install

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """The studio as `make run` starts it: migrate, then serve with the embedded worker."""
    install = make_install(tmp_path_factory.mktemp("var"), SLATE_ALLOW_PRIVATE_PROVIDERS="true")
    install.url = install.serve()
    yield install
    install.stop()


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Chromium reports a CSP refusal as a console error; the listener also catches those
# a report-only policy would only log.
WATCH_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} (${event.blockedURI || "inline"})`);
});
"""


def watched_page(browser, **context_args):
    """A page whose console errors, uncaught exceptions and CSP violations fail the test."""
    context = browser.new_context(accept_downloads=True, **context_args)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    page.errors = errors
    yield page
    context.close()
    assert errors == [], f"the browser reported errors: {errors}"


@pytest.fixture
def page(browser):
    yield from watched_page(browser, viewport={"width": 1400, "height": 900})


@pytest.fixture
def phone(browser):
    """A phone-sized page (390 × 844, as an iPhone 14 reports itself)."""
    yield from watched_page(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )


def wait_until(page, expression: str, timeout: float = 30.0):
    """Poll a JavaScript expression until it is truthy.

    Playwright's wait_for_function polls with eval(), which our Content-Security-Policy
    (rightly) forbids; page.evaluate goes through the DevTools protocol instead.
    """
    import time

    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(expression)):
        assert time.monotonic() < deadline, f"timed out waiting for: {expression}"
        page.wait_for_timeout(50)
    return value
