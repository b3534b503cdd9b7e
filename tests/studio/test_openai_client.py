"""The OpenAI-compatible client against the simulator (httpx's ASGI transport, in process)."""

import io
import logging

import httpx
import pytest
from PIL import Image

from studio.prompts import Shot
from studio.providers.base import (
    BadRequest,
    Job,
    NotFound,
    OutcomeUnknown,
    ProviderError,
    RateLimited,
    Refused,
    Retryable,
)
from studio.providers.http import retry_after
from studio.providers.openai import OpenAICompatible, parse_video
from tests.fakes.transport import SyncASGITransport
from tests.fakes.videos_api import Faults, VideosSimulator

KEY = "sk-test-simulator-0123456789"


class Recorder:
    def __init__(self):
        self.sleeps, self.pauses, self.calls = [], [], 0


def make(sim: VideosSimulator, *, azure=False, timeout=30.0):  # roomy: a cold clip encode
    recorder = Recorder()
    base = "http://sim/openai/v1" if azure else "http://sim/v1"
    client = OpenAICompatible(
        base_url=base,
        api_key=KEY,
        auth_style="api-key" if azure else "bearer",
        client=httpx.Client(transport=SyncASGITransport(sim.app), timeout=timeout),
        pause=recorder.pauses.append,
        on_call=lambda: setattr(recorder, "calls", recorder.calls + 1),
        sleep=recorder.sleeps.append,
        timeout=timeout,
    )
    return client, recorder


def job(prompt="a paper boat drifts", size="1280x720", seconds=4, reference=None, model="sora-2"):
    width, height = (int(p) for p in size.split("x"))
    return Job(1, Shot(subject=prompt), prompt, width, height, seconds, 7, model, reference)


@pytest.fixture
def sim():
    return VideosSimulator(Faults(render_seconds=(0.0, 0.0)), api_key=KEY)


def test_create_retrieve_list_download_delete(sim, tmp_path):
    client, recorder = make(sim)
    created = client.create(job())
    assert created.id.startswith("video_") and created.status in ("queued", "completed")
    assert sim.videos[created.id].prompt == "a paper boat drifts"
    assert sim.videos[created.id].seconds == "4"  # seconds travel as a string
    done = client.retrieve(created.id)
    assert done.status == "completed" and done.progress == 100
    page = client.list_recent(limit=10)
    assert [v.id for v in page.videos] == [created.id] and not page.has_more
    out = io.BytesIO()
    sizes = list(client.download(created.id, out))
    assert out.getvalue() == sim.asset(sim.videos[created.id]) and sizes[-1] == len(out.getvalue())
    client.delete(created.id)
    with pytest.raises(NotFound):
        client.retrieve(created.id)
    assert recorder.calls == 6 and recorder.sleeps == []


def test_list_pages_with_after(sim):
    client, _ = make(sim)
    ids = [client.create(job(f"shot {n}")).id for n in range(5)]
    first = client.list_recent(limit=2)
    second = client.list_recent(after=first.last_id, limit=2)
    third = client.list_recent(after=second.last_id, limit=2)
    seen = [v.id for page in (first, second, third) for v in page.videos]
    assert seen == list(reversed(ids)) and first.has_more and not third.has_more


def test_a_reference_image_is_sent_as_multipart_input_reference(sim, tmp_path):
    client, _ = make(sim)
    picture = tmp_path / "first.png"
    Image.new("RGB", (1280, 720), "orange").save(picture)
    created = client.create(job(reference=picture))
    assert sim.videos[created.id].has_reference
    wrong = tmp_path / "wrong.png"
    Image.new("RGB", (640, 480), "orange").save(wrong)
    with pytest.raises(BadRequest, match="must match the requested width and height"):
        client.create(job(reference=wrong))


def test_moderation_at_create_is_a_refusal(sim):
    client, _ = make(sim)
    with pytest.raises(Refused) as refused:
        client.create(job("REFUSE this"))
    assert refused.value.code == "moderation_blocked" and not sim.videos


def test_429_waits_the_retry_after_and_pauses_the_credential(sim):
    sim.faults.random_429, sim.faults.retry_after = 1.0, 1.5
    client, recorder = make(sim)
    with pytest.raises(RateLimited):
        client.retrieve("video_x")
    assert recorder.sleeps == [1.5, 1.5, 1.5] and recorder.pauses == [1.5] * 4
    assert recorder.calls == 4  # the first try and three retries


def test_idempotent_calls_retry_through_a_5xx_burst_with_backoff(sim):
    client, recorder = make(sim)
    created = client.create(job())
    sim.burst_left = 2  # the next two requests get 503
    assert client.retrieve(created.id).id == created.id
    assert len(recorder.sleeps) == 2 and 0.375 <= recorder.sleeps[0] <= 0.5
    assert 0.75 <= recorder.sleeps[1] <= 1.0  # exponential, jittered


def test_a_create_answered_with_5xx_is_never_repeated(sim):
    sim.faults.create_500_after_accept = 1.0
    client, recorder = make(sim)
    with pytest.raises(OutcomeUnknown):
        client.create(job())
    assert len(sim.videos) == 1 and recorder.calls == 1  # it exists; we did not ask twice


def test_a_create_that_times_out_is_outcome_unknown(sim):
    sim.faults.create_hang, sim.faults.hang_seconds = 1.0, 2.0
    client, recorder = make(sim, timeout=0.3)
    with pytest.raises(OutcomeUnknown):
        client.create(job())
    assert len(sim.videos) == 1 and recorder.calls == 1


def test_an_unreachable_provider_is_retryable_even_for_create():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    client = OpenAICompatible(
        base_url="http://sim/v1",
        api_key=KEY,
        sleep=lambda s: None,
        client=httpx.Client(transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(Retryable) as error:
        client.create(job())
    assert not isinstance(error.value, OutcomeUnknown)


def test_bad_credentials_are_not_retried(sim, caplog):
    client = OpenAICompatible(
        base_url="http://sim/v1",
        api_key="sk-wrong-key-for-the-sim",
        client=httpx.Client(transport=SyncASGITransport(sim.app)),
        sleep=lambda s: pytest.fail("must not retry"),
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as error:
        client.list_recent()
    assert not error.value.retryable and "401" in error.value.message
    assert "sk-wrong-key" not in caplog.text  # the key is never logged


def test_azure_mode_uses_the_api_key_header_and_openai_v1(sim):
    azure = VideosSimulator(Faults(azure=True, render_seconds=(0, 0)), api_key=KEY)
    client, _ = make(azure, azure=True)
    assert client.create(job(size="1280x720")).id
    with pytest.raises(BadRequest, match="Supported values"):
        client.create(job(size="1792x1024", model="sora-2-pro"))


def test_remix_edit_and_extend(sim):
    client, _ = make(sim)
    source = client.create(job())
    remix = client.remix(source.id, "the same boat, at night")
    assert sim.videos[remix.id].remixed_from == source.id
    assert client.edit(source.id, "make it red").id in sim.videos
    extension = client.extend(source.id, "it sails on", 8)
    assert extension.seconds == "12"  # the stitched total


def test_parsing_tolerates_missing_fields_nulls_and_unknown_statuses():
    sparse = parse_video({"id": "video_1", "status": "queued"})
    assert sparse.progress is None and sparse.expires_at is None and sparse.error_code == ""
    odd = parse_video(
        {
            "id": "video_2",
            "status": "paused_for_review",
            "progress": None,
            "error": None,
            "expires_at": None,
        }
    )
    assert odd.status == "unknown" and odd.raw_status == "paused_for_review"
    assert parse_video({"id": "v", "status": "canceled"}).status == "cancelled"
    failed = parse_video(
        {"id": "v", "status": "failed", "error": {"code": "moderation_blocked", "message": "no"}}
    )
    assert (failed.error_code, failed.error_message) == ("moderation_blocked", "no")


def test_retry_after_headers():
    def response(**headers):
        return httpx.Response(429, headers=headers)

    assert retry_after(response(**{"retry-after-ms": "1500"})) == 1.5
    assert retry_after(response(**{"retry-after": "2"})) == 2.0
    assert 0 <= retry_after(response(**{"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) <= 0
    assert retry_after(response()) is None
