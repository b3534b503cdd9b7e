"""Browser notifications in Chromium: with the tab hidden, a take that ends shows a browser
notification of what rang the bell; with the tab in view, or the preference off, none; and
starting a render asks for permission the first time, when it hasn't been given."""

import pytest

from tests.e2e.conftest import wait_until, watched_page
from tests.e2e.test_studio_flow import sign_up
from tests.support.processes import make_install

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNREAD = "document.querySelector('#bell')?.getAttribute('aria-label')"

# Records every Notification the page makes (and every permission request), and lets the
# test hide the tab: headless Chromium never hides one by itself.
RECORD = """
window.__notes = [];
window.__asked = 0;
window.__hidden = false;
const Real = window.Notification;
function Recorded(title, options) {
  window.__notes.push({title: title, body: (options || {}).body, tag: (options || {}).tag});
  this.close = function () {};
}
Recorded.requestPermission = function () {
  window.__asked += 1;
  return Real.requestPermission();
};
Object.defineProperty(Recorded, "permission", {get: () => Real.permission});
window.Notification = Recorded;
Object.defineProperty(Document.prototype, "visibilityState", {
  configurable: true,
  get() { return window.__hidden ? "hidden" : "visible"; },
});
Object.defineProperty(Document.prototype, "hidden", {
  configurable: true,
  get() { return window.__hidden; },
});
"""


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """The studio as `make run` starts it, telling of every finished take (even a quick one)."""
    install = make_install(tmp_path_factory.mktemp("var"), SLATE_NOTIFY_AFTER_SECONDS="0")
    install.url = install.serve()
    yield install
    install.stop()


def recorded_page(browser, studio, **context_args):
    pages = watched_page(browser, viewport={"width": 1280, "height": 800}, **context_args)
    page = next(pages)
    page.context.add_init_script(RECORD)
    return page, pages


def generate(page, subject: str, unread: int) -> None:
    page.wait_for_selector("[data-live=open]")
    page.fill("#id_subject", subject)
    page.click("#generate")
    page.wait_for_selector(f".take-card:has-text('{subject}')")
    wait_until(page, f"{UNREAD} === 'Notifications, {unread} unread'", timeout=120)


def test_a_hidden_tab_shows_a_browser_notification_when_a_take_ends(studio, browser):
    page, pages = recorded_page(browser, studio, permissions=["notifications"])
    try:
        slug = sign_up(page, studio, "noor")
        page.reload()  # the init script is in place from this page on
        page.evaluate("window.__hidden = true")
        generate(page, "a heron on one leg", unread=1)
        wait_until(page, "window.__notes.length === 1")
        note = page.evaluate("window.__notes[0]")
        assert note["title"] == "Take finished"
        assert note["body"].startswith("“a heron on one leg” is ready after")
        assert page.evaluate("window.__asked") == 0  # already granted: nothing asked

        # In view, the bell alone rings.
        page.evaluate("window.__hidden = false")
        generate(page, "a crane taking off", unread=2)
        assert page.evaluate("window.__notes.length") == 1

        # Turned off on the account page: hidden or not, no browser notification.
        page.goto(f"{studio.url}/account/")
        page.uncheck("#id_browser")
        page.click("button:has-text('Save notification settings')")
        page.wait_for_selector(".messages:has-text('Notification settings saved')")
        page.goto(f"{studio.url}/w/{slug}/")
        page.evaluate("window.__hidden = true")
        generate(page, "a stork on a chimney", unread=3)
        assert page.evaluate("window.__notes.length") == 0  # a fresh page: nothing shown
        assert page.get_attribute("#bell", "data-browser") is None
    finally:
        next(pages, None)


def test_starting_a_render_asks_for_permission_the_first_time(studio, browser):
    page, pages = recorded_page(browser, studio)
    try:
        sign_up(page, studio, "oskar")
        page.reload()
        assert page.evaluate("Notification.permission") == "default"
        generate(page, "a lantern in the fog", unread=1)
        assert page.evaluate("window.__asked") == 1
    finally:
        next(pages, None)


def test_rendering_a_board_asks_on_the_board_page_it_leads_to(studio, browser):
    page, pages = recorded_page(browser, studio)
    try:
        sign_up(page, studio, "pia")
        page.click("text=Boards")
        page.fill("#board_title", "Harbour")
        page.click("text=Create board")
        page.fill("#add_subject", "a gull")
        page.click("text=Add card")
        page.wait_for_selector("#timeline li.slot")
        page.click("text=Preview as animatic (free)")
        assert page.evaluate("window.__asked") == 0  # pricing is no job yet
        page.click("button.primary")
        page.wait_for_url("**/boards/*/")
        wait_until(page, "window.__asked === 1")  # asked where the render is shown
        page.reload()
        assert page.evaluate("window.__asked") == 0  # once
    finally:
        next(pages, None)
