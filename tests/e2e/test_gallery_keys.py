"""The library gallery from the keyboard in a real browser: switch to the list view (kept in
the URL, so back and forward work), move with the arrows, star with S, select with X, open
the detail drawer with Enter and Space, see its player, close it with Escape; and the drawer
as a full-screen sheet on a phone."""

import json
import re

import pytest

from tests.e2e.conftest import wait_until
from tests.e2e.test_studio_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def rendered_takes(studio, page, slug: str, subjects) -> list[int]:
    """Takes queued from the shell and rendered by the studio's worker (real MP4s), oldest
    first; waited for on the studio page, where they finish live."""
    made = []
    for subject in subjects:
        queued = studio.manage("generate", "--subject", subject, "--workspace", slug, "--json")
        assert queued.returncode == 0, queued.stderr
        made.append(json.loads(queued.stdout)["id"])
    for pk in made:
        page.wait_for_selector(f"#take-card-{pk} .badge-completed", timeout=120_000)
    return made


def keys_ready(page, selector: str):
    """The gallery and its keys: gallery.js makes one take the tab stop once its handlers
    (and htmx, loaded before it) are in, so a key pressed after this is heard."""
    page.wait_for_selector(f"{selector} [data-nav-item][tabindex='0']")


def focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_list_view_arrows_star_select_and_the_drawer_by_keyboard(studio, page):
    slug = sign_up(page, studio, "noor")
    old, middle, new = rendered_takes(
        studio, page, slug, ("paper boat in a gutter", "kite over the dunes", "lantern on a jetty")
    )
    page.click("nav.topnav >> text=Library")
    keys_ready(page, "ul[data-nav=grid]")
    page.focus(f"#gallery-item-{new}")  # in the grid, left and right walk the cards
    page.keyboard.press("ArrowRight")
    assert focused(page) == f"gallery-item-{middle}"
    page.keyboard.press("ArrowLeft")
    assert focused(page) == f"gallery-item-{new}"
    page.click(".layout-toggle >> text=List")
    page.wait_for_selector(f"table[data-nav=list] tr#gallery-item-{new}")
    assert "view=list" in page.url
    page.go_back()  # the layout is part of the URL: back is the grid again
    page.wait_for_selector("ul[data-nav=grid]")
    page.go_forward()
    keys_ready(page, "table[data-nav=list]")

    # Keys typed into a field are the field's: nothing moves, nothing is starred.
    page.fill("input[name=q]", "")
    page.press("input[name=q]", "s")
    page.press("input[name=q]", "ArrowDown")
    assert page.input_value("input[name=q]") == "s" and focused(page) != f"gallery-item-{new}"
    assert page.locator("button.star.starred").count() == 0
    page.fill("input[name=q]", "")

    # The takes are one tab stop, newest first; arrows move it.
    assert page.get_attribute(f"#gallery-item-{new}", "tabindex") == "0"
    page.focus(f"#gallery-item-{new}")
    page.keyboard.press("ArrowDown")
    assert focused(page) == f"gallery-item-{middle}"
    assert page.get_attribute(f"#gallery-item-{middle}", "tabindex") == "0"
    assert page.get_attribute(f"#gallery-item-{new}", "tabindex") == "-1"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # past the last: stays
    assert focused(page) == f"gallery-item-{old}"
    page.keyboard.press("ArrowUp")
    assert focused(page) == f"gallery-item-{middle}"
    assert page.evaluate("document.activeElement.matches(':focus-visible')")  # the ring shows

    page.keyboard.press("s")
    page.wait_for_selector(f"#gallery-item-{middle} button.star.starred[aria-pressed=true]")
    assert page.locator("button.star.starred").count() == 1
    assert focused(page) == f"gallery-item-{middle}"  # the swap kept the focus
    page.keyboard.press("x")
    assert page.is_checked(f"#gallery-item-{middle} input[name=take]")
    assert not page.is_checked(f"#gallery-item-{new} input[name=take]")

    # Enter: the drawer, focus on its Close button, the take's player inside.
    page.keyboard.press("Enter")
    page.wait_for_selector("#take-drawer[open] video.drawer-player")
    assert f"Take #{middle}" in page.inner_text("#take-drawer-title")
    assert page.evaluate("document.activeElement.classList.contains('drawer-close')")
    wait_until(page, "document.querySelector('#take-drawer video').readyState >= 1")
    drawn = page.inner_text("#take-drawer").lower()
    assert "subject" in drawn and "kite over the dunes" in drawn and "seed" in drawn
    for _ in range(3):  # the page behind is inert: Tab stays in the drawer
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('#take-drawer')")
    page.keyboard.press("Escape")
    wait_until(page, "!document.querySelector('#take-drawer').open")
    # The video goes with it (it doesn't play on behind the page) and the focus goes back.
    wait_until(page, "!document.querySelector('#take-drawer video')")
    assert focused(page) == f"gallery-item-{middle}"

    # Space: the drawer with the take playing, the player focused (Space pauses it there).
    page.keyboard.press("ArrowUp")
    page.keyboard.press(" ")
    page.wait_for_selector("#take-drawer[open] video.drawer-player")
    assert f"Take #{new}" in page.inner_text("#take-drawer-title")
    wait_until(page, "document.querySelector('#take-drawer video').currentTime > 0.2")
    assert page.evaluate("document.activeElement.tagName") == "VIDEO"
    page.keyboard.press("Escape")
    wait_until(page, "!document.querySelector('#take-drawer video')")
    assert focused(page) == f"gallery-item-{new}"


def test_the_drawer_is_a_full_screen_sheet_on_a_phone(studio, phone):
    slug = sign_up(phone, studio, "ravi")
    take, newer = rendered_takes(studio, phone, slug, ("heron on a post", "gull on a rail"))
    phone.click("nav.topnav >> text=Library")
    keys_ready(phone, "ul[data-nav=grid]")
    phone.focus(f"#gallery-item-{newer}")  # one card a row: up and down walk the rows
    phone.keyboard.press("ArrowDown")
    assert focused(phone) == f"gallery-item-{take}"
    phone.keyboard.press("ArrowUp")
    assert focused(phone) == f"gallery-item-{newer}"
    phone.click(f"#gallery-item-{take} a[data-drawer]")
    phone.wait_for_selector("#take-drawer[open] video.drawer-player")
    box = phone.locator("#take-drawer").bounding_box()
    assert box["x"] == 0 and box["width"] == 390 and box["height"] >= 800, box
    assert re.search(r"heron on a post", phone.inner_text("#take-drawer"))
    phone.click("#take-drawer .drawer-close")
    wait_until(phone, "!document.querySelector('#take-drawer').open")
    wait_until(phone, "!document.querySelector('#take-drawer video')")
    assert focused(phone) == f"gallery-item-{take}"
