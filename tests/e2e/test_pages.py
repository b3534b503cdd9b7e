"""Pages in a real browser: a refused take says why, every page fits a phone with the
takes in reach, and errors look like errors."""

import pytest

from tests.e2e.conftest import wait_until
from tests.e2e.test_studio_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REFUSAL = "The provider's moderation refused this shot (real people). Rephrase it."
REFUSED_TAKE = """
from studio.models import Take, Workspace
take = Take.objects.create(
    workspace=Workspace.objects.get(slug="{slug}"), subject="a crowd of famous faces",
    composed_prompt="Subject: a crowd of famous faces.", provider="animatic",
    size="1280x720", seconds=4, seed=7, status="refused", error_message={reason!r},
)
print(take.pk)
"""


BOARD = """
from storyboard import boards
from studio.models import Workspace
board = boards.create_board(Workspace.objects.get(slug="{slug}"), "Harbour at dusk")
boards.add_cards(board, [{{"subject": "a lighthouse keeper climbs the stair", "seconds": 4}},
                         {{"subject": "the lamp turns over the black sea", "seconds": 8}}])
print(board.pk)
"""


NEWS = """
from django.contrib.auth import get_user_model
from studio.models import Workspace
from teams.models import NotificationKind
from teams.notifications import notify
user = get_user_model().objects.get(username="{user}")
workspace = Workspace.objects.get(slug="{slug}")
notify(user.pk, workspace.pk, NotificationKind.TAKE_FINISHED, "Take #1 is ready")
"""


def refused_take(studio, slug: str) -> int:
    done = studio.manage("shell", "-v0", "-c", REFUSED_TAKE.format(slug=slug, reason=REFUSAL))
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_a_refused_take_says_why_on_its_card_and_its_page(studio, page):
    slug = sign_up(page, studio, "noor")
    take_id = refused_take(studio, slug)
    page.goto(f"{studio.url}/w/{slug}/")
    reason = page.locator(f"#take-card-{take_id} .ending")
    assert reason.is_visible() and reason.inner_text() == REFUSAL
    page.click(f"#take-card-{take_id} .card-title")
    shown = page.locator(f"#take-live-{take_id} .ending")
    assert shown.is_visible() and shown.inner_text() == REFUSAL


FOLDED = "[...document.querySelectorAll('details[data-fold-narrow]')].map(d => d.open)"


def test_the_library_keeps_its_panels_open_on_a_wide_screen(studio, page):
    slug = sign_up(page, studio, "lena")
    refused_take(studio, slug)
    page.goto(f"{studio.url}/w/{slug}/library/")
    assert page.evaluate(FOLDED) == [True, True, True]
    assert page.locator("input[name=q]").is_visible() and page.locator("#g-action").is_visible()
    assert page.locator("summary:has-text('Filters')").is_hidden()
    assert page.get_by_role("heading", name="Folders", exact=True).is_visible()


def test_a_checkbox_field_lines_up_with_its_label(studio, page):
    slug = sign_up(page, studio, "ines")
    page.goto(f"{studio.url}/w/{slug}/providers/")
    label = page.locator("label[for=id_webhooks]").bounding_box()
    box = page.locator("#id_webhooks").bounding_box()
    # Not stretched across the field (which draws it in the middle), but at the label's start.
    assert box["width"] < 30 and abs(box["x"] - label["x"]) <= 2, (box, label)


def fits(phone) -> None:
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{phone.url} is {width} px wide on a 390 px phone"


def test_every_page_fits_a_phone_and_the_takes_are_in_reach(studio, phone):
    for path in ("/login/", "/signup/"):
        phone.goto(studio.url + path)
        fits(phone)
    slug = sign_up(phone, studio, "sami")
    # A newcomer, with no takes yet, finds the composer open, under one "Compose a shot".
    phone.wait_for_selector(".studio[data-live=open]")
    assert phone.evaluate("document.getElementById('composer-pane').open") is True
    assert phone.locator("#composer").is_visible()
    assert phone.get_by_role("heading", name="Compose a shot").count() == 1
    assert phone.get_by_text("Compose a shot", exact=True).filter(visible=True).count() == 1
    take_id = refused_take(studio, slug)
    phone.goto(f"{studio.url}/w/{slug}/")
    phone.wait_for_selector(".studio[data-live=open]")
    fits(phone)
    # The composer starts folded on a phone: the takes are right below it.
    assert phone.evaluate("document.getElementById('composer-pane').open") is False
    top = phone.evaluate("document.getElementById('takes').getBoundingClientRect().top")
    assert top < 600, f"the takes start {top} px down"
    assert phone.locator(f"#take-card-{take_id}").is_visible()
    # Unfolded, it fits too, and a link jumps past it to the takes.
    phone.click("#composer-pane > summary")
    phone.wait_for_selector("#composer", state="visible")
    fits(phone)
    phone.click("text=Jump to the takes")
    assert phone.evaluate("document.getElementById('takes').getBoundingClientRect().top") < 844
    # Generate while scrolled down the takes (as after "Jump to the takes" on a long list):
    # the new take's card, at the top of the list, comes into view.
    for _ in range(4):
        refused_take(studio, slug)
    phone.reload()
    phone.click("#composer-pane > summary")
    phone.fill("textarea[name=subject]", "a paper boat on a puddle")
    phone.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert phone.evaluate("document.getElementById('takes').getBoundingClientRect().top") < 0
    known = phone.evaluate("[...document.querySelectorAll('[id^=take-card-]')].map(c => c.id)")
    phone.click("#generate")
    new_card = "[id^=take-card-]" + "".join(f":not(#{card})" for card in known)
    phone.wait_for_selector(new_card)
    in_view = (
        f"(b => b.top >= 0 && b.bottom <= innerHeight)"
        f"(document.querySelector('{new_card}').getBoundingClientRect())"
    )
    wait_until(phone, in_view)
    # With news, the bell's count stays clear of the name beside it.
    told = studio.manage("shell", "-v0", "-c", NEWS.format(slug=slug, user="sami"))
    assert told.returncode == 0, told.stderr
    phone.reload()
    count = phone.locator(".bell-count").bounding_box()
    name = phone.locator(".account a.muted").bounding_box()
    assert count["x"] + count["width"] <= name["x"], (count, name)
    # Compare: the two players stack, each the phone's width, not two thumbnails.
    other = refused_take(studio, slug)
    phone.goto(f"{studio.url}/takes/{take_id}/compare/{other}/")
    fits(phone)
    first, second = (phone.locator(".compare figure").nth(n).bounding_box() for n in range(2))
    assert first["width"] > 300 and second["width"] > 300
    assert second["y"] >= first["y"] + first["height"], "the players sit side by side"
    # The library: folders, filters and the bulk bar fold, so the first take is near the top.
    phone.goto(f"{studio.url}/w/{slug}/library/")
    fits(phone)
    assert phone.evaluate(FOLDED) == [False, False, False]
    top = phone.evaluate(
        "document.querySelector('[id^=gallery-item-]').getBoundingClientRect().top"
    )
    assert top < 600, f"the first take starts {top} px down"
    phone.click("summary:has-text('Filters')")
    phone.fill("input[name=q]", "crowd")
    phone.click("text=Show")
    phone.wait_for_url("**q=crowd**")
    phone.wait_for_selector("[id^=gallery-item-]")
    # The results swapped in (with their bulk bar) fold as well; the filters stay as opened.
    assert phone.evaluate(FOLDED) == [False, True, False]
    done = studio.manage("shell", "-v0", "-c", BOARD.format(slug=slug))
    assert done.returncode == 0, done.stderr
    board_id = int(done.stdout.split()[-1])
    for path in (
        f"/takes/{take_id}/",
        f"/w/{slug}/providers/",
        f"/w/{slug}/library/presets/",
        f"/w/{slug}/library/",
        f"/w/{slug}/boards/",
        f"/w/{slug}/boards/{board_id}/",
        f"/w/{slug}/members/",
        f"/w/{slug}/budget/",
        f"/w/{slug}/usage/",
        f"/w/{slug}/audit/",
        "/account/",
        "/notifications/",
    ):
        phone.goto(studio.url + path)
        fits(phone)
        assert phone.errors == [], f"{path}: {phone.errors}"


def test_errors_look_like_errors_not_help(studio, page):
    page.goto(f"{studio.url}/signup/")
    page.fill("#id_username", "kim")
    page.fill("#id_password1", "storyboard-42!")
    page.fill("#id_password2", "something else")
    page.click("button[type=submit]")
    error = page.wait_for_selector("#id_password2_error")
    help_text = page.query_selector("#id_username_helptext")
    colour = "el => getComputedStyle(el).color"
    assert error.evaluate(colour) == "rgb(255, 93, 93)"
    assert help_text.evaluate(colour) != error.evaluate(colour)
    assert page.get_attribute("#id_password2", "aria-invalid") == "true"
    assert "id_password2_error" in page.get_attribute("#id_password2", "aria-describedby")
