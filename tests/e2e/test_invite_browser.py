"""Inviting in a real browser: an owner makes a link, a newcomer signs up through it in a
browser of their own and lands in the workspace with the role the link gave; the owner's
members page lists them and the bell says someone joined."""

import re

import pytest

from tests.e2e.conftest import watched_page
from tests.e2e.test_studio_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_newcomer_joins_through_an_invite_link(studio, page, browser):
    slug = sign_up(page, studio, "ines")
    page.click("nav.topnav >> text=Members")
    link_form = page.locator(f"form[action='/w/{slug}/members/invite/']")
    link_form.locator("select[name=role]").select_option("viewer")
    link_form.locator("button:has-text('Make a link')").click()
    invite = page.locator(".invite-row input[aria-label='Invite link for viewers']")
    invite.wait_for()
    url = invite.input_value()
    assert re.fullmatch(rf"{re.escape(studio.url)}/invite/[\w-]+/", url), url

    newcomer = next(watched_page(browser, viewport={"width": 1280, "height": 800}))
    newcomer.goto(url)
    newcomer.wait_for_selector("h1:has-text('Join')")
    newcomer.fill("#id_username", "tomas")
    newcomer.fill("#id_password1", "storyboard-42!")
    newcomer.fill("#id_password2", "storyboard-42!")
    newcomer.click("button:has-text('Sign up and join')")
    newcomer.wait_for_url(re.compile(rf"/w/{slug}/$"))
    newcomer.wait_for_selector(".messages:has-text('Welcome to')")  # said where it lands
    # A viewer watches: no composer, and the page says so.
    assert newcomer.locator("#id_subject").count() == 0

    page.reload()
    role = page.locator("tr:has-text('tomas') select")
    role.first.wait_for()
    assert role.first.input_value() == "viewer"
    bell = page.locator("#bell")
    assert bell.get_attribute("aria-label") == "Notifications, 1 unread"
    bell.click()
    page.wait_for_selector("text=tomas")
