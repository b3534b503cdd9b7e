"""The whole path in a real browser: sign up, compose, generate, watch it render, play, seek."""

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_up(page, studio, username: str) -> str:
    """Sign up in the browser; returns the slug of the workspace it lands in."""
    page.goto(f"{studio.url}/signup/")
    page.fill("#id_username", username)
    page.fill("#id_password1", "storyboard-42!")
    page.fill("#id_password2", "storyboard-42!")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/w/[\w-]+/$"))
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_sign_up_compose_generate_watch_progress_and_seek(studio, page, tmp_path):
    slug = sign_up(page, studio, "mara")

    page.fill("#id_subject", "paper boat in a gutter")
    page.fill("#id_motion", "spins slowly, then drifts downstream")
    page.fill("#id_camera", "slow push-in at street level")
    page.fill("#id_lighting", "golden hour")
    page.fill("#id_atmosphere", "rain on asphalt, distant traffic")
    # The composed prompt previews as you type (htmx, no reload).
    page.wait_for_selector("#prompt-preview:has-text('Subject: paper boat in a gutter.')")
    page.wait_for_selector("#prompt-preview:has-text('Lighting: golden hour.')")
    # Each choice re-renders the settings panel (valid options, cost): click like a person.
    page.click("label.size-option:has(input[value='1792x1024'])")
    page.wait_for_selector("input[name=size][value='1792x1024']:checked", state="attached")
    page.click("label.pill:has(input[name=seconds][value='12'])")
    page.wait_for_selector("input[name=seconds][value='12']:checked", state="attached")
    assert "$0.00" in page.inner_text("#cost-estimate")

    page.evaluate("window.__noReload = true")
    page.click("#generate")
    card = page.wait_for_selector(".take-card")  # shown at once, before it renders
    assert "paper boat" in card.inner_text()

    # Follow it to its page and watch it render there, pushed over the websocket.
    page.click(".take-card .card-title")
    page.wait_for_url(re.compile(r"/takes/\d+/$"))
    page.wait_for_selector(".take-page[data-live=open]")
    page.evaluate("window.__noReload = true")
    seen = set()
    while not page.query_selector("video"):
        value = page.evaluate("document.querySelector('.stage progress')?.value ?? null")
        if value is not None:
            seen.add(int(value))
        page.wait_for_timeout(40)
    assert len([v for v in seen if 0 < v < 100]) >= 2, seen  # progress moved
    assert page.evaluate("window.__noReload === true")  # the player arrived without a reload

    ranged = []
    page.on("response", lambda r: ranged.append(r.status) if "/video/" in r.url else None)
    video = page.wait_for_selector("video")
    wait_until(page, "document.querySelector('video').readyState >= 1")
    assert page.evaluate("document.querySelector('video').duration") == pytest.approx(12, abs=0.1)
    page.evaluate(
        """() => new Promise(resolve => {
            const v = document.querySelector('video');
            v.addEventListener('seeked', resolve, {once: true});
            v.currentTime = 9.5;
        })"""
    )
    assert video.evaluate("v => v.currentTime") == pytest.approx(9.5, abs=0.1)
    wait_until(page, "document.querySelector('video').readyState >= 2")
    assert 206 in ranged  # the browser seeked with range requests

    text = page.inner_text(".probe")
    assert "1792×1024" in text and "24.0 fps" in text and "12.0 s" in text

    with page.expect_download() as download_info:
        page.click("text=Download MP4")
    download = download_info.value
    assert download.suggested_filename.startswith(
        "slate-"
    ) and download.suggested_filename.endswith(".mp4")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.stat().st_size > 10_000

    shots = Path(os.environ.get("SLATE_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / "take.png"))
    page.goto(f"{studio.url}/w/{slug}/")
    page.wait_for_selector(".take-card img")
    page.screenshot(path=str(shots / "studio.png"))

    # Hovering the card scrubs through the take's frames (its spritesheet).
    thumb = page.locator(".take-card .thumb[data-sprites]")
    box = thumb.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] / 2)
    page.wait_for_selector(".thumb.scrubbing .scrub")
    assert thumb.get_attribute("data-frame") == "8"
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    assert thumb.get_attribute("data-frame") == "0"
    wait_until(page, "document.querySelector('.scrub').offsetWidth > 0")
    loaded = page.evaluate(
        """() => new Promise(resolve => {
            const url = document.querySelector('.thumb[data-sprites]').dataset.sprites;
            const img = new Image();
            img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
            img.onerror = () => resolve(null);
            img.src = url;
        })"""
    )
    assert loaded and loaded[0] == 1600  # ten 160 px frames
    page.mouse.move(0, 0)
    wait_until(page, "!document.querySelector('.thumb.scrubbing')")
    assert page.errors == []


def test_a_take_queued_from_the_shell_appears_live(studio, page):
    """`generate` without --wait queues; the studio's worker claims it and the list updates."""
    slug = sign_up(page, studio, "jon")
    page.wait_for_selector(".studio[data-live=open]")
    page.evaluate("window.__noReload = true")
    before = page.locator(".take-card").count()

    queued = studio.manage(
        "generate", "--subject", "kite over the dunes", "--camera", "pan left", "--workspace", slug
    )
    assert queued.returncode == 0, queued.stderr
    card = page.wait_for_selector(".take-card:has-text('kite over the dunes') .badge-completed")
    assert card and page.locator(".take-card").count() == before + 1
    assert page.evaluate("window.__noReload === true")
    assert page.errors == []


MANY_TAKES = """
from studio.models import Status, Take, Workspace
workspace = Workspace.objects.get(slug="{slug}")
for n in range({count}):
    Take.objects.create(workspace=workspace, subject=f"older take {{n}}", composed_prompt="x",
                        provider="animatic", size="1280x720", seconds=4, seed=n,
                        status=Status.COMPLETED)
"""


def test_generate_keeps_the_older_takes_opened(studio, page):
    """A take queued after "Older takes" was opened joins the top of the list as shown."""
    slug = sign_up(page, studio, "pia")
    made = studio.manage("shell", "-v0", "-c", MANY_TAKES.format(slug=slug, count=30))
    assert made.returncode == 0, made.stderr
    page.reload()
    page.wait_for_selector(".studio[data-live=open]")
    page.click(".older-takes")
    wait_until(page, "document.querySelectorAll('#take-list .take-card').length === 30")
    page.fill("#id_subject", "a heron lands on a post")
    page.click("#generate")
    page.wait_for_selector(".take-card:has-text('a heron lands on a post')")
    wait_until(page, "document.querySelectorAll('#take-list .take-card').length === 31")
    page.wait_for_selector(".take-card:has-text('a heron lands on a post') .badge-completed")
    ids = page.evaluate("[...document.querySelectorAll('#take-list .take-card')].map(c => c.id)")
    assert len(ids) == len(set(ids)) == 31  # the push that came too added no second card
    assert page.locator(".take-card:has-text('older take 0')").count() == 1
    assert page.locator(".older-takes").count() == 0
    assert page.errors == []
