"""A storyboard in a real browser: paste a shot list, reorder by drag and by keyboard,
render the board animatic and watch the cards finish live, cut, and seek the cut; edit a
card with the composer, its blank fields showing the board style; a 3 s animatic card keeps
its length through the editor."""

import pytest

from tests.e2e.conftest import wait_until
from tests.e2e.test_studio_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = """- Subject: a lighthouse keeper Motion: climbs the stairs Camera: slow push-in
- Subject: a gull Motion: dives Camera: tracking shot
"""


def order(page) -> list[str]:
    return page.eval_on_selector_all(
        "#timeline li.slot .slot-title", "els => els.map(e => e.textContent.trim())"
    )


def test_paste_reorder_render_watch_choose_cut_and_seek(studio, page):
    slug = sign_up(page, studio, "ines")
    page.click("text=Boards")
    page.fill("#board_title", "Harbour")
    page.click("text=Create board")
    page.fill("#shots_text", SHOTS)
    page.click("text=Add the cards")
    page.wait_for_selector("#timeline li.slot >> nth=1")
    assert order(page) == ["1. a lighthouse keeper", "2. a gull"]
    # Drag the gull before the keeper.
    page.drag_and_drop(
        "#timeline li.slot >> nth=1", "#timeline li.slot >> nth=0", target_position={"x": 5, "y": 5}
    )
    # The server's answer redraws the whole strip, card rows included.
    wait_until(page, "document.querySelector('.card-row h3').textContent.includes('a gull')")
    # And back, from the keyboard: focus the keeper's Earlier button and press Enter.
    page.focus("button[aria-label='Move card 2 earlier']")
    page.keyboard.press("Enter")
    wait_until(page, "document.querySelector('.card-row h3').textContent.includes('keeper')")
    assert order(page) == ["1. a lighthouse keeper", "2. a gull"]
    # The keyboard keeps its place: the keeper, now first, has its Later button focused
    # (Earlier is disabled at the start), so Enter moves it on again and back.
    wait_until(page, "document.activeElement.getAttribute('aria-label') === 'Move card 1 later'")
    # The board animatic: price first (free), then render; the cards finish live.
    page.click("text=Preview as animatic (free)")
    assert "$0.00" in page.inner_text("#quote-total")
    page.click("button.primary")
    page.wait_for_url(f"**/w/{slug}/boards/*/")
    wait_until(page, "document.querySelector('.board-page').dataset.live === 'open'")
    wait_until(page, "document.querySelectorAll('.card-take .badge-completed').length === 2", 90)
    # The board's summary follows them without a reload.
    wait_until(page, "document.querySelector('#board-progress').textContent.includes('2 of 2')")
    page.click("text=Cut the board")
    page.wait_for_selector("video.cut-player")
    # A video's duration is NaN until its metadata is in (NaN is falsy in the page, not here).
    duration = wait_until(
        page,
        "(d => (isFinite(d) && d > 0) ? d : 0)"
        "(document.querySelector('video.cut-player').duration)",
        30,
    )
    assert abs(duration - 8) < 0.2
    page.evaluate("document.querySelector('video.cut-player').currentTime = 4.2")
    wait_until(page, "document.querySelector('video.cut-player').readyState >= 2")


def test_a_card_edited_with_the_composer_shows_and_uses_the_board_style(studio, page):
    slug = sign_up(page, studio, "lea")
    page.click("text=Boards")
    page.fill("#board_title", "Harbour")
    page.click("text=Create board")
    page.fill("#style_lighting", "golden hour")
    page.click("text=Save the style")
    page.fill("#add_subject", "a gull")
    page.click("text=Add card")
    page.wait_for_selector("#timeline li.slot")
    page.click("#timeline .slot-title")
    page.wait_for_selector("#composer")
    assert page.get_attribute("#id_lighting", "placeholder") == "From the board style: golden hour"
    page.fill("#id_motion", "dives into the sea")
    page.wait_for_selector("#prompt-preview:has-text('Motion: dives into the sea.')")
    assert "Lighting: golden hour." in page.inner_text("#prompt-preview")
    page.click("label.pill:has-text('8 s')")
    page.select_option("#id_transition", "crossfade")
    page.fill("#id_transition_seconds", "1")
    page.click("#generate")
    page.wait_for_url(f"**/w/{slug}/boards/*/")
    text = page.inner_text("#board-strip")
    assert "8 s" in text and "dives into the sea" in text, text
    assert "crossfade" in text.lower()


def test_a_3_s_animatic_card_is_edited_and_saved_keeping_its_length(studio, page):
    slug = sign_up(page, studio, "noor")
    page.click("text=Boards")
    page.fill("#board_title", "Heron")
    page.click("text=Create board")
    page.fill("#add_subject", "a heron takes off")
    page.fill("#add_seconds", "3")
    page.click("text=Add card")
    page.wait_for_selector("#timeline li.slot")
    page.click("#timeline .slot-title")
    page.wait_for_selector("#composer")
    assert page.is_checked("label.pill:has-text('3 s') input")
    page.fill("#id_motion", "rises over the reeds")
    page.click("#generate")
    page.wait_for_url(f"**/w/{slug}/boards/*/")
    text = page.inner_text("#board-strip")
    assert "3 s" in text and "rises over the reeds" in text, text
    assert "Pick one of those" not in page.inner_text("body")
