"""Inviting in a real browser: an owner makes a link, a newcomer signs up through it in a
browser of their own, lands in the workspace with the role the link gave and generates; the
bells ring live (the owner's when the invite is used, the newcomer's when the take ends)."""

import re

import pytest

from tests.e2e.conftest import wait_until, watched_page
from tests.e2e.test_studio_flow import sign_up
from tests.support.processes import make_install

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNREAD = "document.querySelector('#bell')?.getAttribute('aria-label')"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """The studio as `make run` starts it, telling of every finished take (even a quick one)."""
    install = make_install(tmp_path_factory.mktemp("var"), SLATE_NOTIFY_AFTER_SECONDS="0")
    install.url = install.serve()
    yield install
    install.stop()


def test_a_newcomer_joins_through_an_invite_link_and_the_bells_ring(studio, page, browser):
    slug = sign_up(page, studio, "ines")
    page.click("nav.topnav >> text=Members")
    link_form = page.locator(f"form[action='/w/{slug}/members/invite/']")
    link_form.locator("select[name=role]").select_option("editor")
    link_form.locator("button:has-text('Make a link')").click()
    invite = page.locator(".invite-row input[aria-label='Invite link for editors']")
    invite.wait_for()
    url = invite.input_value()
    assert re.fullmatch(rf"{re.escape(studio.url)}/invite/[\w-]+/", url), url
    page.goto(f"{studio.url}/w/{slug}/")  # the studio page, its socket open
    page.wait_for_selector("[data-live=open]")
    page.evaluate("window.__noReload = true")
    assert page.evaluate(UNREAD) == "Notifications, none unread"

    newcomer = next(watched_page(browser, viewport={"width": 1280, "height": 800}))
    newcomer.goto(url)
    newcomer.wait_for_selector("h1:has-text('Join')")
    newcomer.fill("#id_username", "tomas")
    newcomer.fill("#id_password1", "storyboard-42!")
    newcomer.fill("#id_password2", "storyboard-42!")
    newcomer.click("button:has-text('Sign up and join')")
    newcomer.wait_for_url(re.compile(rf"/w/{slug}/$"))
    newcomer.wait_for_selector(".messages:has-text('Welcome to')")  # said where it lands

    # The owner's bell rings without a reload: the invite was used.
    wait_until(page, f"{UNREAD} === 'Notifications, 1 unread'")
    assert page.evaluate("window.__noReload === true")

    # The newcomer, an editor, generates; their bell rings when the take ends.
    newcomer.wait_for_selector("[data-live=open]")
    newcomer.fill("#id_subject", "a kite over the dunes")
    newcomer.click("#generate")
    newcomer.wait_for_selector(".take-card:has-text('a kite over the dunes')")
    wait_until(newcomer, f"{UNREAD} === 'Notifications, 1 unread'", timeout=120)
    newcomer.click("#bell")
    newcomer.wait_for_selector("text=a kite over the dunes")

    page.click("nav.topnav >> text=Members")
    role = page.locator("tr:has-text('tomas') select")
    role.wait_for()
    assert role.input_value() == "editor"
    page.click("#bell")
    page.wait_for_selector("main >> text=tomas")
