"""ComfyUI on a creator's own GPU, watched in a real browser: its sampler steps arrive
through the same fragments as every other provider's progress, and a take cancelled
mid-render ends cancelled with nothing charged."""

import json
import sqlite3
import time
from contextlib import closing

import pytest

from tests.e2e.conftest import wait_until
from tests.e2e.test_studio_flow import sign_up
from tests.fakes.comfyui import ComfyFaults, ComfySimulator
from tests.fakes.videos_api import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def gpu():
    sim = ComfySimulator(ComfyFaults(render_seconds=4.0, steps=8))
    with serve(sim) as running:
        yield sim, running.base_url


def ledger(studio, take_id: int) -> list[str]:
    with closing(sqlite3.connect(studio.var / "slate.sqlite3", timeout=30)) as db:
        return [
            kind
            for (kind,) in db.execute(
                "select kind from studio_ledgerentry where take_id = ? order by id", (take_id,)
            )
        ]


def queue(studio, slug: str, subject: str) -> int:
    done = studio.manage(
        "generate",
        "--provider",
        "gpu",
        "--model",
        "smoke",
        "--size",
        "640x360",
        "--seconds",
        "2",
        "--subject",
        subject,
        "--workspace",
        slug,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["id"]


def add_gpu(studio, slug: str, base_url: str) -> None:
    added = studio.manage(
        "provider",
        "add",
        "gpu",
        "--kind",
        "comfyui",
        "--base-url",
        base_url,
        "--models",
        "smoke",
        "--workspace",
        slug,
        "--overrides",
        json.dumps({"smoke": {"price": {"default": "0.05"}}}),
    )
    assert added.returncode == 0, added.stderr


def test_comfyui_steps_reach_the_browser_and_a_cancel_charges_nothing(studio, page, gpu):
    sim, base_url = gpu
    slug = sign_up(page, studio, "ines")
    add_gpu(studio, slug, base_url)
    page.wait_for_selector(".studio[data-live=open]")

    # Progress: the card's bar climbs step by step, pushed, without a reload.
    page.evaluate("window.__noReload = true")
    first = queue(studio, slug, "lanterns drifting over a river")
    bar = f"#card-progress-{first}"
    seen, deadline = set(), time.monotonic() + 60
    while not page.locator(f"#take-card-{first} .badge-completed").count():
        assert time.monotonic() < deadline, f"take {first} never completed; bar values: {seen}"
        value = page.evaluate(
            f"(() => {{ const b = document.querySelector('{bar}');"
            " return b && b.hasAttribute('value') ? b.value : null; })()"
        )
        if value is not None:
            seen.add(value)
        assert page.evaluate("window.__noReload === true")
        page.wait_for_timeout(40)
    steps = sorted(v for v in seen if 0 < v < 100)
    assert len(steps) >= 2, seen  # several of the server's own steps, as they happened
    assert ledger(studio, first) == ["hold", "charge"]

    # Cancel: from the take page, mid-render; the take ends cancelled and is not charged.
    second = queue(studio, slug, "a moth circling a porch light")
    page.goto(f"{studio.url}/takes/{second}/")
    wait_until(
        page,
        f"(() => {{ const b = document.querySelector('#progress-{second}');"
        " return b && b.hasAttribute('value') && b.value > 0; })()",
    )
    page.click(".take-actions button:has-text('Cancel')")
    page.wait_for_selector(f"#take-live-{second} .badge-cancelled", timeout=30_000)
    assert "Cancelled" in page.inner_text(f"#take-live-{second}")
    assert sim.interrupts >= 1 or any(job.interrupted for job in sim.jobs)
    assert ledger(studio, second) == ["hold", "release"]
    assert page.errors == []


def test_a_waiting_takes_badge_turns_from_in_queue_to_rendering_without_a_reload(studio, page, gpu):
    """The badge follows ComfyUI's own queue: "In queue" while its prompt waits behind
    another, "Rendering" once it runs, pushed to the open page."""
    sim, base_url = gpu
    sim.faults.render_seconds, sim.faults.steps = 120.0, 240  # until the test moves it on
    slug = sign_up(page, studio, "noor")
    add_gpu(studio, slug, base_url)
    page.wait_for_selector(".studio[data-live=open]")
    page.evaluate("window.__noReload = true")
    first = queue(studio, slug, "a slow tide")
    page.wait_for_selector(f"#card-badge-{first}:has-text('Rendering')", timeout=60_000)
    second = queue(studio, slug, "a heron waiting")
    page.wait_for_selector(f"#card-badge-{second}:has-text('In queue')", timeout=60_000)
    assert "In queue · next" in page.inner_text(f"#card-progress-label-{second}")
    sim.running.interrupted = True  # the first stops at its next step: the second's turn
    page.wait_for_selector(f"#card-badge-{second}:has-text('Rendering')", timeout=60_000)
    assert page.inner_text(f"#card-thumb-status-{second}") == "Rendering"
    sim.faults.render_seconds = 0.5  # the rest of its steps at once
    page.wait_for_selector(f"#take-card-{second} .badge-completed", timeout=60_000)
    assert page.evaluate("window.__noReload === true")  # all of it pushed, never reloaded
