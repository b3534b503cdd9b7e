"""A role changed while the member's page is open: the page says so at once, without a
reload, and a reload draws the controls of the new role."""

import re

import pytest

from tests.e2e.conftest import wait_until, watched_page
from tests.e2e.test_studio_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTICE = "document.querySelector('#role-notice')?.textContent.trim()"


def test_a_viewer_promoted_to_editor_is_told_on_their_open_page(studio, page, browser):
    slug = sign_up(page, studio, "oona")
    page.click("nav.topnav >> text=Members")
    link_form = page.locator(f"form[action='/w/{slug}/members/invite/']")
    link_form.locator("select[name=role]").select_option("viewer")
    link_form.locator("button:has-text('Make a link')").click()
    invite = page.locator(".invite-row input[aria-label='Invite link for viewers']")
    invite.wait_for()
    url = invite.input_value()

    viewer = next(watched_page(browser, viewport={"width": 1280, "height": 800}))
    viewer.goto(url)
    viewer.fill("#id_username", "pavel")
    viewer.fill("#id_password1", "storyboard-42!")
    viewer.fill("#id_password2", "storyboard-42!")
    viewer.click("button:has-text('Sign up and join')")
    viewer.wait_for_url(re.compile(rf"/w/{slug}/$"))
    viewer.wait_for_selector("[data-live=open]")
    assert viewer.locator("#id_subject").count() == 0  # a viewer's studio: no composer
    assert viewer.evaluate(NOTICE) == ""
    viewer.evaluate("window.__noReload = true")

    page.reload()
    page.locator("tr:has-text('pavel') select").select_option("editor")
    page.locator("tr:has-text('pavel') button:has-text('Change')").click()
    page.wait_for_selector(".messages:has-text('Role changed.')")

    wait_until(viewer, f"({NOTICE} || '').includes('changed to Editor')")
    assert viewer.evaluate("window.__noReload === true")  # told live, not reloaded
    viewer.click("#role-notice >> text=Reload this page")
    viewer.wait_for_selector("#id_subject")  # the editor's composer
    assert viewer.evaluate(NOTICE) == ""
