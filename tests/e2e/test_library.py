"""The library in a real browser: file takes into a nested folder by drag and drop, search,
download a zip, make a share link, open it with no session, revoke it and see it gone."""

import io
import re
import zipfile

import pytest

from tests.e2e.conftest import watched_page
from tests.e2e.test_studio_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TAKES = """
import hashlib
from django.core.files.base import ContentFile
from studio.models import Take, Workspace
workspace = Workspace.objects.get(slug="{slug}")
for prompt in ("a red fox in the snow", "a blue whale"):
    take = Take.objects.create(workspace=workspace, subject=prompt, composed_prompt=prompt,
        size="1280x720", seconds=4, seed=1, status="completed", model="animatic")
    data = prompt.encode() * 100
    take.video.save(f"take-{{take.pk}}.mp4", ContentFile(data), save=False)
    take.video_sha256 = hashlib.sha256(data).hexdigest()
    take.save()
    print(take.pk)
"""


def test_file_search_zip_share_and_revoke(studio, page, browser):
    slug = sign_up(page, studio, "lena")
    made = studio.manage("shell", "-v0", "-c", TAKES.format(slug=slug))
    assert made.returncode == 0, made.stderr
    fox, whale = (int(n) for n in made.stdout.split())
    page.click("nav.topnav >> text=Library")
    page.wait_for_selector(f"#gallery-item-{fox}")

    page.fill("input[name=name]", "Client")
    page.click("text=Create folder")  # at the top level; the page stays where it was
    page.wait_for_selector("#folder-tree li:has-text('Client')")
    page.fill("input[name=name]", "Cut 1")
    page.select_option("#g-parent", label="Shared › Client")
    page.click("text=Create folder")
    page.wait_for_selector("#folder-tree li.depth-1:has-text('Cut 1')")
    assert page.locator("#shared-folders li.depth-1:has-text('Cut 1')").count() == 1
    page.fill("input[name=name]", "Private")
    page.select_option("#g-parent", "mine")  # the top of My folders: only Lena sees it
    page.click("text=Create folder")
    page.wait_for_selector("#my-folders li.depth-0:has-text('Private')")
    page.wait_for_selector(f"#gallery-item-{fox}")
    # The drag as the page's handlers see it (one DataTransfer through dragstart, dragover and
    # drop): the mouse-driven drag lands on whichever card is under the pointer mid-scroll.
    carried = page.evaluate_handle("new DataTransfer()")
    folder = "#folder-tree li:has-text('Cut 1')"
    page.dispatch_event(f"#take-card-{fox} .thumb", "dragstart", {"dataTransfer": carried})
    page.dispatch_event(folder, "dragover", {"dataTransfer": carried})
    page.dispatch_event(folder, "drop", {"dataTransfer": carried})
    page.wait_for_selector(f"#gallery-item-{fox} .gallery-meta a:has-text('Cut 1')")
    page.click("#folder-tree >> text=Cut 1")
    page.wait_for_selector(f"#gallery-item-{fox}")
    assert page.locator(f"#gallery-item-{whale}").count() == 0
    assert page.locator("#folder-tree li.depth-1:has-text('Cut 1')").count() == 1

    page.click("#folder-tree >> text=All takes")
    page.fill("input[name=q]", "whale")
    page.click("text=Show")
    page.wait_for_selector(f"#gallery-item-{fox}", state="detached")
    assert "q=whale" in page.url
    page.check(f"#gallery-item-{whale} input[name=take]")
    page.select_option("select[name=action]", "zip")
    with page.expect_download() as download:
        page.click("#bulk button.primary")
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert "manifest.json" in archive.namelist() and len(archive.namelist()) == 3

    page.click(f"#gallery-item-{whale} a:has-text('Share')")  # its options first
    page.check("input[name=show_prompt]")
    page.click("text=Make a share link for this take")
    url = page.input_value("#new-share-url")
    stranger = next(watched_page(browser))
    stranger.goto(url)
    stranger.wait_for_selector("video")
    assert "a blue whale" in stranger.content() and "fox" not in stranger.content()
    page.click("summary:has-text('Revoke')")  # two steps
    page.click("button:has-text('Revoke this link')")
    page.wait_for_selector("text=No live share links")
    response = stranger.goto(url)
    assert response.status == 404 and "isn't available" in stranger.content()
    assert re.search(r"/s/[\w-]{40,}/", url)
    stranger.context.close()
