"""Remix and extend against the /v1/videos simulator: native where the endpoint's flavour
serves the follow-up routes, chained (last frame → first frame, then joined) where not.
Priced, held and charged like any take."""

import base64
import io
from dataclasses import replace
from decimal import Decimal

import av
import numpy as np
import pytest
from PIL import Image

from studio import ledger, lineage
from studio.models import Status
from studio.prompts import Shot
from studio.providers.base import Job
from studio.providers.fal import request_body
from tests.fakes.openrouter_api import OpenRouterSimulator
from tests.fakes.videos_api import Faults
from tests.support import engine
from tests.support.engine import connect, drive, refreshed, simulator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim():
    return simulator(asset_size="320x180")  # small clips, whatever size was asked


@pytest.fixture
def finished(monkeypatch, workspace, sim):
    """A completed 4 s take on the simulator, through an endpoint of the ``profile`` given
    (with ``serves``: only those follow-up routes, as --profile-map would say)."""

    def make(profile="openai", serves=None):
        endpoint = connect(monkeypatch, workspace, sim, profile=profile)
        if serves is not None:
            endpoint.profile_overrides = {"operations": serves}
            endpoint.save()
        parent = engine.queue(workspace, "a paper boat", seconds=4)
        drive(sim)
        parent = refreshed(parent)
        assert parent.status == Status.COMPLETED
        return parent

    return make


def posts(sim) -> list[str]:
    return [call.path for call in sim.calls if call.method == "POST"]


def settled(take, amount: str) -> None:
    sums = ledger.totals(take_id=take.pk)
    assert sums["charge"] == Decimal(amount) and sums["hold"] == sums["charge"] + sums["release"]


def test_native_remix_goes_to_the_edits_route(sim, finished):
    parent = finished()
    child = lineage.remix(parent, {"lighting": "moonlight"})
    assert (child.method, child.estimate) == ("native", Decimal("0.4000"))
    drive(sim)
    child = refreshed(child)
    assert child.status == Status.COMPLETED and child.remote_id != parent.remote_id
    assert posts(sim)[-1].endswith("/videos/edits")
    assert "moonlight" in sim.videos[child.remote_id].prompt
    settled(child, "0.4000")


def test_without_edits_a_remix_takes_the_older_route_and_extend_is_chained(sim, finished):
    parent = finished(serves=["remix"])  # what Azure documents
    remix = lineage.remix(parent, {"motion": "spins slowly"})
    extend = lineage.extend(parent, 4)
    assert (remix.method, extend.method) == ("native", "chained")
    drive(sim)
    assert any(path.endswith(f"/videos/{parent.remote_id}/remix") for path in posts(sim))
    assert sim.videos[refreshed(remix).remote_id].remixed_from == parent.remote_id
    extend = refreshed(extend)
    assert extend.probe["frames"] == 96 + 96  # the parent, then the continuation, joined
    settled(extend, "0.4000")


def test_native_extension_comes_back_whole_from_the_provider(sim, finished):
    parent = finished()
    child = lineage.extend(parent, 8, prompt="it sails on into the drain")
    assert (child.method, child.seconds, child.estimate) == ("native", 8, Decimal("0.8000"))
    assert not child.reference
    drive(sim)
    child = refreshed(child)
    assert posts(sim)[-1].endswith("/videos/extensions")
    assert sim.videos[child.remote_id].seconds == "12"  # the stitched total
    with av.open(child.video.path) as container:  # kept as the provider sent it
        assert container.streams.video[0].frames == 12 * 24
    settled(child, "0.8000")


def test_chained_extend_on_a_gateway_joins_parent_and_continuation(sim, finished):
    parent = finished("gateway")
    child = lineage.extend(parent, 4)
    assert child.method == "chained" and child.reference_fit["mode"] == "last-frame"
    drive(sim)
    child = refreshed(child)
    assert child.status == Status.COMPLETED, child.error_message
    assert child.probe["duration"] == pytest.approx(8, abs=0.05)
    assert posts(sim)[-1].endswith("/videos")  # a new generation, not a follow-up


def test_a_native_extension_past_the_limit_is_refused(sim, finished):
    parent = finished()
    parent.probe["duration"] = 116.0
    parent.save()
    with pytest.raises(lineage.LineageRefused, match="at most 120 s"):
        lineage.extend(parent, 8)


def test_a_loop_is_local_where_the_model_takes_no_last_frame(sim, finished):
    parent = finished()  # sora-2 on /v1/videos: a first frame only (docs/videos-api.md)
    child = lineage.loop(parent)
    assert (child.method, child.estimate) == ("local", Decimal("0"))


@pytest.fixture
def veo(workspace, monkeypatch):
    """An OpenRouter endpoint (frames as ``frame_images``, first and last) serving Veo 3.1,
    which takes a last frame, and a function making completed takes on it."""
    sim = OpenRouterSimulator(Faults(render_seconds=(0.1, 0.3), asset_size="320x180"))
    connect(
        monkeypatch, workspace, sim, models=("google/veo-3.1",), name="or", profile="openrouter"
    )

    def make(seconds=8, subject="a paper boat in a gutter"):
        take = engine.queue(
            workspace, subject, provider="or", model="google/veo-3.1", seconds=seconds
        )
        drive(sim)
        take = refreshed(take)
        assert take.status == Status.COMPLETED, take.error_message
        return take

    make.sim = sim
    return make


def sent_image(frame: dict) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(frame["image_url"]["url"].split(",", 1)[1])))


def like(image: Image.Image, path, last: bool = False) -> float:
    """How far ``image`` is from the video's first (or last) frame, scaled to its size."""
    with av.open(str(path)) as video:
        frames = list(video.decode(video=0))
    frame = (frames[-1] if last else frames[0]).to_image().resize(image.size)
    return float(np.abs(np.asarray(image.convert("RGB"), int) - np.asarray(frame, int)).mean())


def test_a_native_loop_is_a_generation_that_ends_on_its_first_frame(veo):
    parent = veo()
    child = lineage.loop(parent)
    assert (child.operation, child.method, child.seconds) == ("loop", "native", 8)
    assert child.estimate == parent.estimate == Decimal("3.2000")  # priced as the generation
    assert child.reference_fit == {"mode": "first-frame", "take": parent.pk}
    drive(veo.sim)
    child = refreshed(child)
    assert child.status == Status.COMPLETED, child.error_message
    frames = veo.sim.bodies[child.remote_id]["frame_images"]
    assert [f["frame_type"] for f in frames] == ["first_frame", "last_frame"]
    assert frames[0]["image_url"] == frames[1]["image_url"]  # end frame = start frame
    with sent_image(frames[0]) as image:
        assert image.size == (1280, 720) and like(image, parent.video.path) < 8
    assert "frame_images" not in veo.sim.bodies[parent.remote_id]
    settled(child, "3.2000")


def test_a_bridging_blend_joins_first_bridge_and_second(veo):
    first, second = veo(8, "a paper boat"), veo(4, "a harbour at dawn")
    child = lineage.blend(first, second)
    assert (child.operation, child.method, child.seconds) == ("blend", "chained", 4)
    assert (child.parent_id, child.blend_with_id) == (first.pk, second.pk)  # in order
    assert child.estimate == Decimal("1.6000")  # the bridge: 4 s of Veo with sound
    drive(veo.sim)
    child = refreshed(child)
    assert child.status == Status.COMPLETED, child.error_message
    frames = veo.sim.bodies[child.remote_id]["frame_images"]
    assert [f["frame_type"] for f in frames] == ["first_frame", "last_frame"]
    with sent_image(frames[0]) as start, sent_image(frames[1]) as end:
        assert like(start, first.video.path, last=True) < 8  # from the first's last frame
        assert like(end, second.video.path) < 8  # to the second's first frame
    assert child.probe["duration"] == pytest.approx(8 + 4 + 4, abs=0.05)
    assert child.probe["frames"] == (8 + 4 + 4) * 24
    settled(child, "1.6000")


def test_a_bridge_longer_than_the_model_renders_is_refused(veo):
    first, second = veo(4), veo(4)
    with pytest.raises(lineage.LineageRefused, match="at most 8 s"):
        lineage.blend(first, second, 9)


def test_on_fal_the_end_frame_goes_in_the_field_the_models_wire_names(tmp_path):
    frame = tmp_path / "first.jpg"
    Image.new("RGB", (64, 36), "teal").save(frame)
    wire = {"image": "start_image_url", "last_frame": "end_image_url"}
    job = Job(1, Shot(subject="a kite"), "a kite", 64, 36, 5, 1, reference=frame, wire=wire)
    assert "end_image_url" not in request_body(job)
    body = request_body(replace(job, last_frame=frame))
    assert body["end_image_url"] == body["start_image_url"]
    assert body["end_image_url"].startswith("data:image/jpeg;base64,")
