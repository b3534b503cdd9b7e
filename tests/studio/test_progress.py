"""Honest progress: a percentage only where the backend gives one; otherwise stage, queue
position and elapsed time against the model's typical render."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from studio import live
from studio.models import Status, Take
from studio.progress import clock, progress_of
from tests.support.engine import offline_take

pytestmark = pytest.mark.django_db


@pytest.fixture
def fal_take(workspace):
    return offline_take(
        workspace,
        kind="fal",
        model="fal-ai/veo3.1",
        size="1280x720",
        seconds=8,
        typical=90,
        base_url="http://127.0.0.1:9",
        api_key="fal-key",
    )


def moved(take, **fields):
    Take.objects.filter(pk=take.pk).update(**fields)
    take.refresh_from_db()
    return take


def fragments(take) -> str:
    return live.progress_html(take)


def test_a_provider_without_percentages_shows_its_queue_and_the_clock(fal_take):
    started = time.monotonic()
    sent = timezone.now() - timedelta(seconds=72)
    take = moved(
        fal_take,
        status=Status.IN_PROGRESS,
        progress_known=False,
        progress=0,
        stage="queued",
        queue_position=3,
        create_sent_at=sent,
    )
    view = progress_of(take)
    took = time.monotonic() - started  # a busy machine may pause anywhere in between
    assert view.percent is None and view.label == "In queue · 3 ahead"
    assert view.typical == 90 and view.elapsed in {clock(72 + s) for s in range(int(took) + 2)}
    html = fragments(take)
    assert "value=" not in html  # an indeterminate bar: no number was invented
    assert "%" not in html
    assert f'data-since="{sent.isoformat()}"' in html and "usually about 1:30" in html
    assert "of ~1:30" in html  # the card says it shorter
    assert take.status_label == "In queue"  # the badge doesn't claim it is rendering


def test_a_running_stage_is_named_as_the_backend_names_it(fal_take):
    take = moved(
        fal_take,
        status=Status.IN_PROGRESS,
        progress_known=False,
        stage="KSampler: step 3/20",
        queue_position=None,
        create_sent_at=timezone.now(),
    )
    assert progress_of(take).label == "Rendering · KSampler: step 3/20"
    take = moved(take, stage="rendering")
    assert progress_of(take).label == "Rendering" and "value=" not in fragments(take)
    assert take.status_label == "Rendering"


def test_a_reported_percentage_is_shown_as_it_is(fal_take):
    take = moved(fal_take, status=Status.IN_PROGRESS, progress_known=True, progress=42)
    view = progress_of(take)
    assert view.percent == 42 and view.label == "42% rendered" and view.since is None
    assert 'value="42"' in fragments(take)


def test_before_and_after_the_provider_has_it(fal_take):
    assert progress_of(fal_take).label == "Waiting for a worker…"
    assert progress_of(moved(fal_take, status=Status.SUBMITTING)).label == "Sending to fal…"
    take = moved(fal_take, status=Status.IN_PROGRESS, stage="downloading", progress_known=False)
    assert progress_of(take).label == "Copying the video into Slate…"
    assert progress_of(take).percent is None
    take = moved(take, status=Status.CANCELLING, stage="cancelling")
    assert progress_of(take).label.startswith("Cancelling")


def test_clock():
    assert [clock(s) for s in (7, 90, 725, 3720)] == ["0:07", "1:30", "12:05", "1:02:00"]


def test_a_progress_push_redraws_the_badges_when_the_stage_moves_on(fal_take):
    """ "In queue" to "Rendering" is no change of state, only of stage: the badges on the
    card, its thumbnail and the take page still follow."""
    queued = moved(fal_take, status=Status.IN_PROGRESS, progress_known=False, stage="queued")
    # The badges on the card, thumbnail, stage and actions, and both progress labels.
    assert fragments(queued).count(">In queue<") == 6
    running = moved(queued, stage="executing")
    html = fragments(running)
    assert "In queue" not in html and html.count(">Rendering<") == 4
    for element in ("card-badge", "card-thumb-status", "stage-badge", "status"):
        assert f'id="{element}-{running.pk}"' in html
