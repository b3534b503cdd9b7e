"""The take tree in a real browser: remix one field from the take page, watch the child
appear and finish live in the tree, open compare and play both players in sync."""

import re

import pytest

from tests.e2e.conftest import wait_until
from tests.e2e.test_studio_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_remix_from_the_take_page_then_compare_in_sync(studio, page):
    sign_up(page, studio, "ines")
    page.fill("#id_subject", "paper boat in a gutter")
    page.fill("#id_lighting", "golden hour")
    page.click("#generate")
    page.click(".take-card .card-title")
    page.wait_for_url(re.compile(r"/takes/\d+/$"))
    parent = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    page.wait_for_selector(".take-page[data-live=open]")
    page.wait_for_selector("video")
    page.evaluate("window.__noReload = true")

    page.click("details.op-remix summary")
    assert page.input_value("#id_remix_lighting") == "golden hour"  # prefilled from the take
    page.fill("#id_remix_lighting", "neon rain at night")
    page.click("details.op-remix button[type=submit]")
    queued = page.wait_for_selector(".take-ops .queued")
    child = int(re.search(r"take #(\d+)", queued.inner_text()).group(1))

    # The child joins the tree at once, then finishes there, pushed over the websocket.
    node = f"#tree-node-{child}"
    page.wait_for_selector(f"#take-tree-{parent} {node}")
    page.wait_for_selector(f"{node} .badge-completed", timeout=60_000)
    assert page.evaluate("window.__noReload === true")
    assert "remix · chained" in page.inner_text(node).lower()
    assert page.evaluate(f"!!document.querySelector('#tree-node-{parent}').closest('.on-path')")

    page.click(f"{node} a:has-text('what changed')")
    page.wait_for_url(re.compile(rf"/takes/{parent}/compare/{child}/$"))
    assert "neon rain at night" in page.inner_text(".diff")
    wait_until(page, "[...document.querySelectorAll('video')].every(v => v.readyState >= 2)")
    page.keyboard.press(" ")  # plays both
    wait_until(page, "[...document.querySelectorAll('video')].every(v => v.currentTime > 0.5)")
    page.keyboard.press("k")  # pauses both
    wait_until(page, "[...document.querySelectorAll('video')].every(v => v.paused)")
    times = page.evaluate("[...document.querySelectorAll('video')].map(v => v.currentTime)")
    assert abs(times[0] - times[1]) < 0.25, times
    page.keyboard.press("ArrowRight")  # one frame on, both
    wait_until(
        page,
        f"[...document.querySelectorAll('video')].every(v => Math.abs(v.currentTime - "
        f"{times[0] + 1 / 24}) < 0.02)",
    )


def test_a_saved_review_shows_at_once_on_the_cards_open_elsewhere(studio, page):
    slug = sign_up(page, studio, "odile")
    page.fill("#id_subject", "a kite over the dunes")
    page.click("#generate")
    card = page.wait_for_selector(".take-card .badge-completed", timeout=60_000)
    take = int(card.evaluate("c => c.closest('.take-card').id.split('-').pop()"))
    page.wait_for_selector(".studio[data-live=open]")
    page.evaluate("window.__noReload = true")

    # The same member has the library and the take's own page open in other tabs.
    gallery = page.context.new_page()
    errors = []
    gallery.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    gallery.goto(f"{studio.url}/w/{slug}/library/")
    gallery.wait_for_selector(".library[data-live=open]")
    gallery.evaluate("window.__noReload = true")
    assert gallery.inner_text(f"#card-notes-{take}") == ""

    tab = page.context.new_page()
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(f"{studio.url}/takes/{take}/")
    tab.click(".review-details summary")
    tab.select_option(".review-form select[name=rating]", "4")
    tab.click(".review-form button[type=submit]")
    tab.wait_for_selector(".review-panel .flash")

    for where in (page, gallery):
        where.wait_for_selector(f"#card-notes-{take} .card-note-rating:has-text('4.0 ★')")
        assert where.evaluate("window.__noReload === true")
    tab.wait_for_selector(f"#tree-notes-{take} .card-note-rating:has-text('4.0 ★')")

    tab.click(".review-panel form button:has-text('Circle this take')")
    for where in (page, gallery):
        where.wait_for_selector(f"#card-notes-{take} .card-note-circled")
    assert errors == []
