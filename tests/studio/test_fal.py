"""fal's queue through the engine, against the fal simulator: each outcome maps right, the
request body is spelled as each model wants it, webhooks are verified with Ed25519."""

import ipaddress
import json
import re
import time
from decimal import Decimal
from functools import partial

import pytest
from django.test import Client
from django.urls import reverse

from studio import ledger, takes
from studio.engine import pacing
from studio.engine import watcher as watcher_module
from studio.engine.watcher import save_update, watcher
from studio.models import Status, Take, WebhookDelivery
from studio.progress import progress_of
from studio.providers import addresses, falkeys, http
from studio.providers.base import LiveUnavailable, RemoteVideo
from studio.providers.fal import Fal
from tests.fakes.fal_api import DEFAULT_KEY as FAL_KEY
from tests.fakes.fal_api import FalSimulator
from tests.fakes.videos_api import Faults, serve
from tests.support import engine
from tests.support.engine import LOST, connect_fal, drive, fal_simulator, refreshed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _watcher():
    """Takes without webhooks are followed by the watcher thread, over fal's status stream."""
    with engine.watcher_beside_the_test():
        yield


queue = partial(engine.queue, provider="fal", model="fal-ai/veo3.1", seconds=8)


def test_a_veo_take_is_queued_followed_and_copied(workspace, monkeypatch):
    sim = fal_simulator()
    connect_fal(monkeypatch, workspace, sim)
    take = queue(workspace, sound=False)
    assert take.estimate == Decimal("1.6000")  # 8 s × $0.20 (720p, no sound)
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    job = sim.videos[take.remote_id]
    # Veo's own spelling: "8s", aspect and resolution words, its sound switch.
    assert job.body["duration"] == "8s" and job.body["aspect_ratio"] == "16:9"
    assert job.body["resolution"] == "720p" and job.body["generate_audio"] is False
    assert job.body["seed"] == take.seed and job.model_path == "fal-ai/veo3.1"
    assert take.probe["video_codec"] == "h264" and take.charged == Decimal("1.6000")
    assert ledger.unbalanced_takes() == []


def test_each_model_gets_its_own_wire_format(workspace, monkeypatch):
    sim = fal_simulator()
    connect_fal(monkeypatch, workspace, sim)
    kling = queue(
        workspace,
        model="fal-ai/kling-video/v3/pro/text-to-video",
        size="1080x1920",
        seconds=5,
        negative_prompt="blur, text",
    )
    drive(sim)
    body = sim.videos[refreshed(kling).remote_id].body
    assert body["duration"] == "5" and body["aspect_ratio"] == "9:16"  # a string, no "s"
    assert "resolution" not in body and body["negative_prompt"] == "blur, text"
    assert kling.estimate == Decimal("0.8400")  # 5 s × $0.168 with sound (the default)


def test_a_first_frame_goes_to_the_image_model_as_a_data_uri(workspace, monkeypatch):
    from tests.studio.test_references import picture

    sim = fal_simulator()
    connect_fal(monkeypatch, workspace, sim)
    take = queue(workspace, reference=picture(size=(1280, 720)))
    drive(sim)
    job = sim.videos[refreshed(take).remote_id]
    assert job.model_path == "fal-ai/veo3.1/image-to-video"
    assert job.body["image_url"].startswith("data:image/jpeg;base64,")
    assert refreshed(take).status == Status.COMPLETED


@pytest.mark.parametrize(
    ("word", "status", "code"),
    [
        ("REFUSE", Status.REFUSED, "content_policy_violation"),  # a 422 on the result
        ("BLOCKME", Status.REFUSED, "content_policy_violation"),
        ("FAILME", Status.FAILED, "internal_server_error"),  # COMPLETED carrying an error
        ("EXPIREME", Status.EXPIRED, "expired"),  # the file was gone when fetched
    ],
)
def test_outcomes_map_to_statuses_and_charge_nothing(workspace, monkeypatch, word, status, code):
    sim = fal_simulator()
    connect_fal(monkeypatch, workspace, sim)
    take = queue(workspace, subject=f"{word} a kite")
    drive(sim)
    take = refreshed(take)
    assert (take.status, take.error_code) == (status, code), take.error_message
    assert not take.charged and ledger.unbalanced_takes() == []


def test_queue_position_is_shown_not_a_made_up_percentage(workspace, monkeypatch):
    sim = fal_simulator(render_seconds=(3.0, 3.0))
    connect_fal(monkeypatch, workspace, sim)
    take = queue(workspace)
    drive(sim, until=lambda: refreshed(take).remote_id and refreshed(take).stage)
    take = refreshed(take)
    assert take.progress_known is False and take.progress == 0
    assert take.stage in ("queued", "rendering") and take.queue_position in (0, None)


def test_cancelling_a_running_request_stops_it_and_charges_nothing(workspace, monkeypatch):
    sim = fal_simulator(render_seconds=(2.0, 2.0))
    connect_fal(monkeypatch, workspace, sim)
    take = queue(workspace)
    drive(sim, until=lambda: refreshed(take).status == Status.IN_PROGRESS)
    takes.cancel(take.pk)
    assert refreshed(take).status == Status.CANCELLING  # fal stops on its own time
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.CANCELLED and sim.videos[take.remote_id].cancelled
    assert not take.charged and ledger.unbalanced_takes() == []


def test_a_new_model_needs_no_code_only_a_catalogue_entry(workspace, monkeypatch):
    """A model Slate's catalogue doesn't list, described in the endpoint's data, works."""
    sim = fal_simulator()
    entry = {
        "label": "PixVerse v6",
        "aspects": ["16:9", "9:16"],
        "resolutions": ["720p"],
        "seconds": [5, 8],
        "max_prompt_chars": 2000,
        "price": {"default": "0.05"},
        "typical_render": {"base": 0.3, "per_second": 0},
        "wire": {"duration": "duration", "duration_format": "int", "aspect": "aspect_ratio"},
    }
    connect_fal(
        monkeypatch,
        workspace,
        sim,
        models=("pixverse/v6/text-to-video",),
        overrides={"pixverse/v6/text-to-video": entry},
    )
    take = queue(workspace, model="pixverse/v6/text-to-video", size="720x1280", seconds=8)
    assert take.estimate == Decimal("0.4000")
    drive(sim)
    body = sim.videos[refreshed(take).remote_id].body
    assert body == {"prompt": take.composed_prompt, "duration": 8, "aspect_ratio": "9:16"}
    assert refreshed(take).status == Status.COMPLETED


# --- the status stream ------------------------------------------------------------------


def request_calls(sim, take) -> list[str]:
    """What the simulator was asked about the take's request: method and what was asked."""
    request = refreshed(take).remote_id
    named = [c for c in sim.calls if request in c.path or c.method == "POST"]
    return [f"{c.method} {c.path.rsplit(request, 1)[-1] or 'result'}" for c in named]


def test_without_webhooks_a_take_is_followed_over_its_status_stream(workspace, monkeypatch):
    """One long call instead of a poll per look: submit, stream, result, file."""
    sim = fal_simulator(render_seconds=(1.0, 1.0))
    sim.stream_keepalive = 0.05  # fal's 15 s, shortened: comment lines come and change nothing
    connect_fal(monkeypatch, workspace, sim)
    take = queue(workspace)
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    assert request_calls(sim, take) == ["POST /fal-ai/veo3.1", "GET /status/stream", "GET result"]
    assert take.provider_calls == 4  # and the file, from fal's CDN
    assert sim.streams_open == 0  # fal closed it after COMPLETED, and Slate let it go


def test_the_card_follows_the_queue_place_then_rendering(workspace, monkeypatch):
    """Each change the stream tells is saved and pushed as the card says it."""
    now = [1000.0]
    sim = FalSimulator(Faults(render_seconds=(100.0, 100.0)), api_key=FAL_KEY, clock=lambda: now[0])
    connect_fal(monkeypatch, workspace, sim)
    told = []

    def recorded(take_id, owner, update):
        kept = save_update(take_id, owner, update)
        told.append((take_id, progress_of(Take.objects.get(pk=take_id)).label))
        return kept

    monkeypatch.setattr(watcher_module, "save_update", recorded)
    first = queue(workspace, subject="the first")
    drive(sim, until=lambda: refreshed(first).remote_id)
    now[0] += 1  # each request 1 s after the one before, so they leave fal's queue in turn
    second = queue(workspace, subject="the second")
    drive(sim, until=lambda: refreshed(second).remote_id)
    now[0] += 1
    third = queue(workspace, subject="the third")

    def third_says(label):
        return lambda: (third.pk, label) in told

    drive(sim, until=third_says("In queue · 2 ahead"))
    now[0] += 8.5  # the first starts
    drive(sim, until=third_says("In queue · 1 ahead"))
    now[0] += 1  # the second starts
    drive(sim, until=third_says("In queue · next"))
    now[0] += 1  # the third starts
    drive(sim, until=third_says("Rendering"))
    now[0] += 100  # all done
    drive(sim)
    mine = [label for take_id, label in told if take_id == third.pk]
    assert mine == ["In queue · 2 ahead", "In queue · 1 ahead", "In queue · next", "Rendering"]
    assert all(refreshed(t).status == Status.COMPLETED for t in (first, second, third))
    assert "GET /status" not in request_calls(sim, third)  # never polled


def test_a_refused_stream_falls_back_to_polling_and_completes(workspace, monkeypatch):
    sim = fal_simulator(render_seconds=(1.0, 1.0))
    sim.stream_refused = True
    connect_fal(monkeypatch, workspace, sim)
    take = queue(workspace)
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    asked = request_calls(sim, take)
    assert "GET /status" in asked  # polled meanwhile …
    assert asked.count("GET /status/stream") >= 2  # … and the stream tried again at each look
    streams = [c.status for c in sim.calls if c.path.endswith("/status/stream")]
    assert set(streams) == {405}


def test_a_stream_that_breaks_off_at_once_is_reopened_no_faster_than_a_first_poll(
    workspace, monkeypatch
):
    sim = fal_simulator(render_seconds=(1.0, 1.0))
    sim.stream_drops = True
    connect_fal(monkeypatch, workspace, sim)
    monkeypatch.setattr(watcher_module, "LAG_FLOOR", 0.5)  # the test's own, to be quick
    waits = []

    def let_go(take_id, owner, delay, **fields):
        if not fields:  # a watch let go of without an end (the end carries what fal said)
            waits.append(delay)
        return pacing.let_go(take_id, owner, delay, **fields)

    monkeypatch.setattr(watcher_module, "let_go", let_go)
    take = queue(workspace)
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    assert waits and all(0 < wait <= 0.5 for wait in waits)  # each drop waited, within the floor
    assert request_calls(sim, take).count("GET /status/stream") == len(waits) + 1


def test_a_cancel_is_noticed_while_streaming_and_the_stream_let_go(workspace, monkeypatch):
    sim = fal_simulator(render_seconds=(60.0, 60.0))
    connect_fal(monkeypatch, workspace, sim)
    take = queue(workspace)
    drive(sim, until=lambda: take.pk in watcher.watched() and sim.streams_open == 1)
    takes.cancel(take.pk)
    drive(sim, until=lambda: refreshed(take).is_terminal)
    take = refreshed(take)
    assert take.status == Status.CANCELLED and sim.videos[take.remote_id].cancelled
    assert take.pk not in watcher.watched()
    drive(sim, until=lambda: sim.streams_open == 0)  # Slate hung up; fal would have kept it
    assert "GET /status/stream" in request_calls(sim, take)


def test_a_stream_over_a_real_connection(workspace, monkeypatch):
    """The stream over the process's own asyncio client (the checked transport), to the
    simulator really listening on loopback."""
    real = http.stream_client
    sim = fal_simulator(render_seconds=(1.0, 1.0))
    with serve(sim):
        connect_fal(monkeypatch, workspace, sim)
        monkeypatch.setattr(http, "stream_client", real)
        take = queue(workspace)
        drive(sim)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    assert request_calls(sim, take) == ["POST /fal-ai/veo3.1", "GET /status/stream", "GET result"]


def test_the_stream_connects_only_to_an_address_it_checked(monkeypatch):
    """A name that resolves public to the URL check and private to the connect (DNS
    rebinding) is refused by the stream's own transport: nothing is sent, the look polls."""
    answers = iter([ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")])
    asked = []

    def resolve(host, port):
        asked.append(host)
        return [next(answers)]

    monkeypatch.setattr(addresses, "resolve", resolve)
    sent = []
    client = Fal(base_url="https://queue.fal.example", api_key="k", private=False)
    client.on_call = lambda: sent.append(1)
    video = RemoteVideo(id="abc", status="queued", data={"model": "fal-ai/veo3.1"})
    try:
        with pytest.raises(LiveUnavailable, match="private network"):
            watcher.open(client, video)
    finally:
        watcher.stop()
    assert asked == ["queue.fal.example", "queue.fal.example"] and not sent


# --- webhooks -------------------------------------------------------------------------------


def hook_post(endpoint, body: bytes, headers: dict, key: str = ""):
    url = reverse("provider_webhook", args=["fal", endpoint.webhook_token])
    url += f"?key={key}" if key else ""
    return Client().post(url, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def hooked(workspace, monkeypatch):
    sim = fal_simulator(render_seconds=(30.0, 30.0))
    endpoint = connect_fal(monkeypatch, workspace, sim, webhooks=True)
    take = queue(workspace)
    drive(sim, until=lambda: refreshed(take).status == Status.IN_PROGRESS)
    body = json.dumps({"request_id": refreshed(take).remote_id, "status": "OK"}).encode()
    return sim, endpoint, refreshed(take), body


def test_a_valid_fal_webhook_is_applied_once(hooked):
    sim, endpoint, take, body = hooked
    headers = sim.fal_headers(body, take.remote_id)
    assert hook_post(endpoint, body, headers).status_code == 200
    assert refreshed(take).webhook_hint == "completed"
    again = hook_post(endpoint, body, headers)
    assert again.status_code == 200 and again.content == b"Already received"
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize("tamper", ["wrong key", "mutated body", "stale", "garbage signature"])
def test_bad_fal_webhooks_are_rejected_and_change_nothing(hooked, tamper):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    sim, endpoint, take, body = hooked
    at = time.time() - 301 if tamper == "stale" else None
    key = Ed25519PrivateKey.generate() if tamper == "wrong key" else None
    headers = sim.fal_headers(body, take.remote_id, at=at, key=key)
    if tamper == "mutated body":
        body = body.replace(b'"OK"', b'"ERROR"')
    if tamper == "garbage signature":
        headers["x-fal-webhook-signature"] = "zz" * 64
    assert hook_post(endpoint, body, headers).status_code == 400
    assert not WebhookDelivery.objects.exists() and refreshed(take).webhook_hint == ""


def test_a_rotated_key_is_found_by_refreshing_the_key_set(hooked, monkeypatch):
    sim, endpoint, take, body = hooked
    falkeys.keys()  # cached before fal rotates
    fetched = sim.jwks_fetches
    sim.rotate_key(publish=True)
    monkeypatch.setattr(falkeys, "REFRESH_AT_MOST_EVERY", 0.0)
    assert hook_post(endpoint, body, sim.fal_headers(body, take.remote_id)).status_code == 200
    assert sim.jwks_fetches == fetched + 1  # one refresh found the new key


def test_an_unknown_key_is_rejected_even_after_a_refresh(hooked, monkeypatch):
    sim, endpoint, take, body = hooked
    falkeys.keys()
    fetched = sim.jwks_fetches
    sim.rotate_key(publish=False)  # a key fal never published
    monkeypatch.setattr(falkeys, "REFRESH_AT_MOST_EVERY", 0.0)
    assert hook_post(endpoint, body, sim.fal_headers(body, take.remote_id)).status_code == 400
    assert sim.jwks_fetches == fetched + 1 and not WebhookDelivery.objects.exists()


def test_refreshes_are_rate_limited_so_forgeries_cant_hammer_fal(hooked):
    sim, endpoint, take, body = hooked
    falkeys.keys()
    fetched = sim.jwks_fetches
    sim.rotate_key(publish=False)
    for _ in range(5):
        hook_post(endpoint, body, sim.fal_headers(body, take.remote_id))
    assert sim.jwks_fetches <= fetched + 1


def test_with_webhooks_a_take_costs_few_calls(workspace, monkeypatch):
    sim = fal_simulator()
    connect_fal(monkeypatch, workspace, sim, webhooks=True)
    take = queue(workspace)
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.COMPLETED
    assert take.provider_calls <= 3  # submit, result, file: the webhook said when


def test_a_lost_submit_answer_is_found_by_its_webhook(workspace, monkeypatch):
    """fal can't be listed: the callback URL carries the take's key, and names the job."""
    sim = fal_simulator(render_seconds=(0.3, 0.3), hang_seconds=60.0)
    connect_fal(monkeypatch, workspace, sim, webhooks=True, timeout=LOST)
    take = queue(workspace, subject="HANGME a kite")
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.COMPLETED and take.create_calls == 1
    assert len(sim.creates) == 1 and take.remote_id == sim.creates[0].id


def test_without_webhooks_a_lost_submit_ends_honestly_never_twice(workspace, monkeypatch):
    sim = fal_simulator(render_seconds=(0.3, 0.3), hang_seconds=60.0)
    connect_fal(monkeypatch, workspace, sim, timeout=LOST)
    take = queue(workspace, subject="HANGME a kite")
    drive(sim)
    take = refreshed(take)
    assert take.status == Status.FAILED and take.error_code == "outcome_unknown"
    assert "dashboard" in take.error_message and len(sim.creates) == 1
    assert not take.charged and ledger.unbalanced_takes() == []


def test_the_key_check_says_whether_fal_accepts_the_key(workspace, monkeypatch):
    from studio.providers import endpoints

    sim = fal_simulator()
    endpoint = connect_fal(monkeypatch, workspace, sim)
    assert "the key works" in endpoints.check_endpoint(endpoint)
    sim.api_key = "another"
    assert "did not answer properly" in endpoints.check_endpoint(endpoint)


def test_bad_input_is_refused_before_anything_is_queued(client, personas, workspace, monkeypatch):
    import html

    sim = fal_simulator()
    connect_fal(monkeypatch, workspace, sim)
    client.force_login(personas["editor"])
    base = {
        "subject": "a kite",
        "camera": "static",
        "provider": "fal",
        "size": "1280x720",
        "seconds": "8",
    }
    cases = [
        ({"model": "fal-ai/veo9"}, "doesn't serve model"),
        ({"model": "fal-ai/veo3.1", "size": "1280x720", "seconds": "5"}, "makes clips of 4, 6, 8"),
        ({"model": "fal-ai/veo3.1", "size": "1080x1080", "seconds": "8"}, "doesn't render"),
        (
            {
                "model": "fal-ai/kling-video/v3/pro/text-to-video",
                "size": "1920x1080",
                "seconds": "5",
                "negative_prompt": "x",
                "reference": "999",
            },
            "reference image is gone",
        ),
    ]
    for extra, message in cases:
        page = client.post(reverse("generate", args=["harbour"]), {**base, **extra})
        text = html.unescape(page.content.decode())
        errors = re.findall(r'class="error"[^>]*>([^<]*)<', text)
        assert any(message in error for error in errors), (extra, errors)
    assert not Take.objects.exists() and not sim.creates
