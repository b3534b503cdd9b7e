"""The prompt studio in a real browser: live lint with one-click fixes, a template with
variables, a reference image dropped on the composer, and a take made from all of it."""

import base64
import io
import re

import pytest
from PIL import Image

from tests.e2e.conftest import wait_until
from tests.e2e.test_studio_flow import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def drop_image(page, selector: str, name: str, data: bytes, mime: str) -> None:
    """Drop a file on an element, as dragging it from the desktop does."""
    page.evaluate(
        """([selector, name, b64, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            const zone = document.querySelector(selector);
            zone.dispatchEvent(new DragEvent("dragover", {bubbles: true, dataTransfer: transfer}));
            zone.dispatchEvent(new DragEvent("drop", {bubbles: true, dataTransfer: transfer}));
        }""",
        [selector, name, base64.b64encode(data).decode(), mime],
    )


def test_lint_fixes_a_template_and_a_dropped_reference_make_a_take(studio, page):
    sign_up(page, studio, "ines")

    # Live lint: vague praise is flagged as you type, and one click applies the fix.
    page.fill("#id_subject", "a stunning lighthouse on a cliff")
    finding = page.wait_for_selector("#lint-findings [data-rule=vague]")
    finding.query_selector("button.apply").click()
    wait_until(page, "document.querySelector('#id_subject').value === 'a lighthouse on a cliff'")
    page.wait_for_selector("#lint-findings [data-rule=vague]", state="detached")
    assert page.query_selector("#lint-findings [data-rule=no-camera]")  # other advice stays

    # A built-in template asks for its variables, then fills the whole shot.
    page.click("#library-panel summary")
    page.click("text=Cinematic establishing shot")
    page.fill("input[name=var_location]", "a lighthouse on a basalt cliff")
    page.fill("input[name=var_time_of_day]", "blue hour")
    page.fill("input[name=var_weather]", "sea spray")
    page.click("text=Fill in the shot")
    wait_until(
        page, "document.querySelector('#id_subject').value === 'a lighthouse on a basalt cliff'"
    )
    assert page.input_value("#id_camera") == "wide establishing shot, slow crane up"
    page.wait_for_selector("#prompt-preview:has-text('Lighting: blue hour light.')")

    # A reference image dropped on the composer: cleaned, previewed, focus chosen by a click.
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (30, 110, 160)).save(out, "JPEG")
    drop_image(page, "[data-dropzone]", "cliff.jpg", out.getvalue(), "image/jpeg")
    preview = page.wait_for_selector(".reference-preview img")
    assert "1792x1024" in page.inner_text(".reference-preview figcaption")
    box = preview.bounding_box()
    preview.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.5})
    focus_x = (
        "new URL(document.querySelector('.reference-preview img').src).searchParams.get('focus_x')"
    )
    focus = wait_until(page, f"{focus_x} !== '0.5' && {focus_x}")
    assert 0.15 < float(focus) < 0.25  # the crop now keeps the left of the picture

    assert "$0.00" in page.inner_text("#cost-estimate")
    page.click("#generate")
    page.wait_for_selector(".take-card:has-text('basalt cliff') .badge-completed", timeout=60_000)
    page.click(".take-card:has-text('basalt cliff') .card-title")
    page.wait_for_url(re.compile(r"/takes/\d+/$"))
    page.wait_for_selector("video")
    assert page.errors == []
