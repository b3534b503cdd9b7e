"""The OpenRouter profile: the same OpenAI-compatible adapter, told apart by data only."""

import json
import time
from decimal import Decimal
from functools import partial

import pytest
from django.test import Client
from django.urls import reverse

from studio import ledger
from studio.models import Status, Take, WebhookDelivery
from tests.fakes.openrouter_api import OpenRouterSimulator
from tests.fakes.videos_api import Faults
from tests.support import engine
from tests.support.engine import LOST, connect, drive, refreshed

pytestmark = pytest.mark.django_db(transaction=True)
MODELS = ("google/veo-3.1", "bytedance/seedance-2.0")


def simulator(**faults) -> OpenRouterSimulator:
    faults.setdefault("render_seconds", (0.1, 0.3))
    # Small clips whatever was asked: encoding, probing and a thumbnail sheet of an 8 s
    # portrait clip cost seconds, and no test here is about pictures.
    faults.setdefault("asset_size", "320x180")
    return OpenRouterSimulator(Faults(**faults))


queue = partial(engine.queue, provider="or", model="google/veo-3.1", seconds=8)


def test_a_take_speaks_openrouters_dialect(workspace, monkeypatch):
    sim = simulator()
    connect(monkeypatch, workspace, sim, models=MODELS, name="or", profile="openrouter")
    take = queue(workspace, sound=False)
    assert take.estimate == Decimal("1.6000")  # 8 s × $0.20 without sound
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    body = sim.bodies[take.remote_id]
    assert body["duration"] == 8 and body["aspect_ratio"] == "16:9"  # an integer; a shape
    assert body["resolution"] == "720p" and body["generate_audio"] is False
    assert body["seed"] == take.seed and "size" not in body and "seconds" not in body
    assert take.probe["video_codec"] == "h264" and ledger.unbalanced_takes() == []


def test_a_first_frame_goes_as_frame_images(workspace, monkeypatch):
    from tests.studio.test_references import picture

    sim = simulator()
    connect(monkeypatch, workspace, sim, models=MODELS, name="or", profile="openrouter")
    take = queue(workspace, size="720x1280", reference=picture(size=(720, 1280)))
    drive(sim)
    frame = sim.bodies[refreshed(take).remote_id]["frame_images"][0]
    assert frame["frame_type"] == "first_frame"
    assert frame["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert refreshed(take).status == Status.COMPLETED


def test_a_refusal_is_a_refusal(workspace, monkeypatch):
    sim = simulator()
    connect(monkeypatch, workspace, sim, models=MODELS, name="or", profile="openrouter")
    take = queue(workspace, subject="REFUSE a kite")
    drive(sim)
    assert refreshed(take).status == Status.REFUSED and not sim.creates


def test_signed_callbacks_wake_takes_and_bad_ones_are_rejected(workspace, monkeypatch):
    sim = simulator(render_seconds=(30.0, 30.0))
    endpoint = connect(
        monkeypatch, workspace, sim, models=MODELS, name="or", profile="openrouter", webhooks=True
    )
    take = queue(workspace)
    drive(sim, until=lambda: refreshed(take).status == Status.IN_PROGRESS)
    assert sim.bodies[refreshed(take).remote_id]["callback_url"].endswith(f"?key={take.client_key}")
    body = json.dumps(
        {"type": "video.generation.completed", "data": {"id": refreshed(take).remote_id}}
    ).encode()
    url = reverse("provider_webhook", args=["openai", endpoint.webhook_token])

    def post(data, headers):
        return Client().post(url, data=data, content_type="application/json", headers=headers)

    idempotency = f"{take.remote_id}-completed"
    stale = sim.signed_headers(body, idempotency, at=int(time.time()) - 400)
    assert post(body, stale).status_code == 400
    forged = sim.signed_headers(body, idempotency)
    assert post(body.replace(b"completed", b"failed"), forged).status_code == 400
    assert not WebhookDelivery.objects.exists()
    assert post(body, sim.signed_headers(body, idempotency)).status_code == 200
    assert refreshed(take).webhook_hint == "completed"
    assert post(body, sim.signed_headers(body, idempotency)).content == b"Already received"


def test_with_callbacks_a_take_costs_two_calls(workspace, monkeypatch):
    sim = simulator()
    connect(
        monkeypatch, workspace, sim, models=MODELS, name="or", profile="openrouter", webhooks=True
    )
    take = queue(workspace)
    drive(sim)
    assert refreshed(take).status == Status.COMPLETED
    assert refreshed(take).provider_calls <= 2, sim.calls


def test_openrouter_cant_be_listed_so_a_lost_create_is_never_sent_twice(workspace, monkeypatch):
    sim = simulator(create_hang=0.0)
    connect(
        monkeypatch, workspace, sim, models=MODELS, name="or", profile="openrouter", timeout=LOST
    )
    take = queue(workspace)
    from django.utils import timezone

    Take.objects.filter(pk=take.pk).update(  # a create was sent and its answer lost
        status=Status.SUBMITTING,
        submit_uncertain=True,
        create_calls=1,
        create_sent_at=timezone.now(),
    )
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.FAILED and take.error_code == "outcome_unknown"
    assert not sim.creates and not take.charged


def test_the_check_asks_what_openrouter_can_answer(workspace, monkeypatch):
    from studio.providers import endpoints

    sim = simulator()
    endpoint = connect(monkeypatch, workspace, sim, models=MODELS, name="or", profile="openrouter")
    assert "the key works" in endpoints.check_endpoint(endpoint)  # not GET /videos: a 404
    assert [call.path for call in sim.calls] == ["/api/v1/key"]
