"""ComfyUI through the engine, against a fake server really listening on loopback: templates
filled slot by slot, progress from the websocket, cancel, and every bad input refused early."""

import html
import re
from collections import defaultdict
from datetime import timedelta
from functools import partial

import av
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from studio import ledger, live, takes
from studio.engine import calls
from studio.engine.submit import submit
from studio.engine.watcher import watcher
from studio.models import LedgerEntry, Status, Take
from studio.progress import progress_of
from studio.providers import endpoints, workflows
from tests.fakes.comfyui import ComfyFaults, ComfySimulator
from tests.fakes.videos_api import serve
from tests.support import engine
from tests.support.engine import connect_comfy, drive, offline_take, refreshed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _watcher():
    with engine.watcher_beside_the_test():
        yield


@pytest.fixture
def comfy():
    sim = ComfySimulator(ComfyFaults(render_seconds=0.3))
    with serve(sim) as running:
        sim.base_url = running.base_url
        yield sim


queue = partial(
    engine.queue, provider="gpu", model="smoke", size="640x360", seconds=2, camera="static"
)


def frames_of(path) -> tuple[int, int, int, float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return stream.width, stream.height, count, float(stream.average_rate)


def test_the_smoke_template_renders_what_its_slots_say(workspace, monkeypatch, comfy):
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace, size="360x640", seconds=2)
    assert take.estimate == 0  # your own GPU
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    assert comfy.submitted == [str(take.client_key)]  # our own prompt id, sent once
    graph = comfy.history[take.remote_id]["prompt"][2]
    assert graph["4"]["inputs"]["value"] == take.composed_prompt
    assert graph["3"]["inputs"]["filename_prefix"] == f"slate/take-{take.pk}"
    assert frames_of(take.video.path) == (360, 640, 24, 12.0)  # 2 s × 12 fps
    assert take.charged == 0 and ledger.unbalanced_takes() == []


def test_without_its_websocket_a_take_is_polled_knocking_again_at_each_look(
    workspace, monkeypatch, comfy
):
    # A minute-long render, until the test has seen several looks; then the rest at once.
    comfy.faults.no_websocket, comfy.faults.steps, comfy.faults.render_seconds = True, 120, 60.0
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy, until=lambda: comfy.refused_sockets >= 3)
    comfy.faults.render_seconds = 0.3
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    assert take.provider_calls >= 5 and comfy.accepted_sockets == 0  # polled, knocking each time


def test_a_websocket_refused_once_is_tried_again_at_the_next_look(workspace, monkeypatch, comfy):
    # A minute-long render in half-second steps: it is still running when the second look
    # comes, however busy the machine is.
    comfy.faults.refuse_sockets, comfy.faults.steps, comfy.faults.render_seconds = 1, 120, 60.0
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy, until=lambda: "step" in refreshed(take).stage)  # steps come by websocket only
    assert comfy.refused_sockets == 1 and comfy.accepted_sockets >= 1
    takes.cancel(take.pk)
    drive(comfy)


@pytest.fixture
def pushed(monkeypatch):
    """Every push of a take as it went out: (badge, progress label), by take."""
    said = defaultdict(list)
    push = live._push

    def recording(take_id, *, progress_only):
        take = Take.objects.get(pk=take_id)
        said[take_id].append((take.status_label, progress_of(take).label))
        push(take_id, progress_only=progress_only)

    monkeypatch.setattr(live, "_push", recording)
    return said


def test_a_take_is_watched_from_the_moment_it_is_queued(workspace, monkeypatch, comfy, pushed):
    """Nothing ahead: ComfyUI runs the prompt before it even answers. The take is looked at
    (watched) at once, not after most of a typical render (a minute here) has gone by, and
    says it renders from that first look."""
    comfy.faults.steps, comfy.faults.render_seconds = 120, 60.0  # until the test moves it on
    endpoint = connect_comfy(monkeypatch, workspace, comfy.base_url)
    endpoint.model_overrides = {"smoke": {"typical_render": {"base": 60, "per_second": 0}}}
    endpoint.save()
    take = queue(workspace)
    submit(refreshed(take))  # its create, as a worker runs it
    assert refreshed(take).next_check_at <= timezone.now()  # due at once (was 54 s)
    drive(comfy, until=lambda: "step" in refreshed(take).stage)  # steps come by websocket
    comfy.faults.render_seconds = 0.3  # the rest of its steps at once
    drive(comfy)
    assert refreshed(take).status == Status.COMPLETED
    pushed = pushed[take.pk]
    sent = pushed.index(("Sent", "Sent to gpu"))
    assert pushed[sent + 1] == ("Rendering", "Rendering"), pushed  # its first look
    assert not [label for _, label in pushed if label.startswith("In queue")]  # none ahead


def test_a_prompt_behind_another_reads_in_queue_only_until_it_runs(
    workspace, monkeypatch, comfy, pushed
):
    """Its place comes from ComfyUI's own queue; when the prompt ahead ends, it is looked at
    at once (not when a typical render per prompt ahead would have passed: minutes here)."""
    comfy.faults.steps, comfy.faults.render_seconds = 120, 60.0
    endpoint = connect_comfy(monkeypatch, workspace, comfy.base_url)
    endpoint.model_overrides = {"smoke": {"typical_render": {"base": 600, "per_second": 0}}}
    endpoint.save()
    monkeypatch.setattr(settings, "SLATE_WATCH_SECONDS", 0.5)  # two takes share one thread
    first = queue(workspace, subject="first")
    drive(comfy, until=lambda: "step" in refreshed(first).stage)
    second = queue(workspace, subject="second")
    drive(comfy, until=lambda: refreshed(second).stage == "queued")
    assert (refreshed(second).status_label, progress_of(second).label) == (
        "In queue",
        "In queue · next",
    )
    comfy.running.interrupted = True  # stopped on the server: the second's turn comes
    drive(comfy, until=lambda: refreshed(second).status_label == "Rendering")
    comfy.faults.render_seconds = 0.5  # the rest of its steps at once
    drive(comfy)
    assert refreshed(second).status == Status.COMPLETED
    badges = [badge for badge, _ in pushed[second.pk]]
    assert "In queue" in badges and "In queue" not in badges[badges.index("Rendering") :]


def test_a_prompt_a_restarted_server_forgot_is_sent_again_once_under_its_own_id(
    workspace, monkeypatch, comfy
):
    comfy.faults.steps, comfy.faults.render_seconds = 120, 60.0
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy, until=lambda: "step" in refreshed(take).stage)
    comfy.restart()  # before the render speeds up: the first prompt must not end first
    comfy.faults.steps, comfy.faults.render_seconds = 0, 0.3
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    key = str(take.client_key)
    assert comfy.submitted == [key, key] and take.remote_id == key
    assert take.create_calls == 2 and take.charged == 0
    assert ledger.unbalanced_takes() == []


def test_a_prompt_lost_twice_fails_in_comfyuis_words(workspace, monkeypatch, comfy):
    comfy.faults.steps, comfy.faults.render_seconds = 120, 60.0
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy, until=lambda: "step" in refreshed(take).stage)
    comfy.restart()
    drive(comfy, until=lambda: len(comfy.submitted) == 2 and "step" in refreshed(take).stage)
    comfy.restart()
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.FAILED and take.error_code == "not_found"
    assert "ComfyUI no longer knows this prompt: was the server restarted?" in take.error_message
    assert "sent it again once" in take.error_message
    assert comfy.submitted == [str(take.client_key)] * 2 and not take.charged
    assert ledger.unbalanced_takes() == []


def test_sampler_progress_reaches_the_take_as_it_renders(workspace, monkeypatch, comfy):
    comfy.faults.steps, comfy.faults.render_seconds = 6, 1.2
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    pushed = []
    push = live.progress_changed

    def recording(take_id):
        current = Take.objects.get(pk=take_id)
        pushed.append((current.progress, current.progress_known, current.stage))
        push(take_id)

    monkeypatch.setattr(live, "progress_changed", recording)
    drive(comfy)
    assert refreshed(take).status == Status.COMPLETED
    steps = [(p, stage) for p, known, stage in pushed if known and "step" in stage]
    assert len(steps) >= 3, pushed  # events sent before the socket opened are gone
    for progress, stage in steps:  # the server's own step counts, nothing invented
        step = int(stage.removeprefix("EmptyImage: step ").split("/")[0])
        assert stage.endswith("/6") and progress == min(int(100 * step / 6), 99)
    assert [p for p, _ in steps] == sorted(p for p, _ in steps)
    assert any(stage == "CreateVideo" for _, _, stage in pushed)


@pytest.mark.parametrize("key", ["images", "gifs", "videos"])
def test_outputs_are_found_whichever_key_lists_them(workspace, monkeypatch, comfy, key):
    comfy.faults.output_key = key
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy)
    assert refreshed(take).status == Status.COMPLETED


def test_a_workflow_that_saves_no_mp4_fails_with_a_reason(workspace, monkeypatch, comfy):
    comfy.faults.save_format = "webm"
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.FAILED and "no MP4" in take.error_message


def test_a_node_error_fails_the_take_naming_the_node(workspace, monkeypatch, comfy):
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace, subject="FAILME a kite")
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.FAILED
    assert "EmptyImage: Allocation on device failed" in take.error_message
    assert not take.charged


def test_a_running_take_cancels_cooperatively_and_charges_nothing(workspace, monkeypatch, comfy):
    # A minute-long render in half-second steps: the cancel lands mid-render however busy the
    # machine is, and ends it within a step.
    comfy.faults.steps, comfy.faults.render_seconds = 120, 60.0
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy, until=lambda: "step" in refreshed(take).stage)
    takes.cancel(take.pk)
    assert refreshed(take).status == Status.CANCELLING  # it stops between steps
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.CANCELLED and comfy.interrupts == 1
    history = comfy.history[take.remote_id]
    assert history["status"]["status_str"] == "error" and history["outputs"] == {}
    assert not LedgerEntry.objects.filter(take=take, kind="charge").exists()
    assert ledger.unbalanced_takes() == []


def test_a_pending_take_is_taken_off_the_queue(workspace, monkeypatch, comfy):
    # The first renders for ten minutes (in one-second steps, so its cancel ends it within one):
    # the second waits in the server's queue for as long as the test needs to see it there.
    comfy.faults.steps, comfy.faults.render_seconds = 600, 600.0
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    first, second = queue(workspace, subject="first"), queue(workspace, subject="second")

    def second_seen_waiting():
        # Sent, then looked at once: its stage is "sent" until that look reads the queue.
        take = refreshed(second)
        return take.remote_id and (take.queue_position is not None or take.stage == "queued")

    drive(comfy, until=second_seen_waiting, timeout=300)  # bounds only a run going wrong
    assert refreshed(second).queue_position == 0 or refreshed(second).stage == "queued"
    takes.cancel(second.pk)
    drive(comfy, until=lambda: refreshed(second).is_terminal)
    assert refreshed(second).status == Status.CANCELLED
    assert str(second.client_key) not in comfy.history  # it never ran
    takes.cancel(first.pk)
    drive(comfy)


def test_a_first_frame_is_uploaded_and_held(workspace, monkeypatch, comfy):
    from tests.studio.test_references import picture

    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace, reference=picture(size=(640, 360), colour=(200, 40, 40)))
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.COMPLETED, take.error_message
    graph = comfy.history[take.remote_id]["prompt"][2]
    assert graph["1"]["class_type"] == "LoadImage"  # the smoke-image template
    assert graph["1"]["inputs"]["image"] in comfy.uploads
    with av.open(take.video.path) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    red, green, blue = frame[180, 320]
    assert red > 150 and green < 90 and blue < 90


def test_a_template_whose_model_files_are_missing_fails_saying_which(workspace, monkeypatch, comfy):
    connect_comfy(monkeypatch, workspace, comfy.base_url, models=("wan-2.2-ti2v-5b",))
    take = queue(workspace, model="wan-2.2-ti2v-5b", size="1280x704", seconds=5)
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.FAILED
    for node, name in [
        ("37 (UNETLoader)", "wan2.2_ti2v_5B_fp16.safetensors"),
        ("38 (CLIPLoader)", "umt5_xxl_fp8_e4m3fn_scaled.safetensors"),
        ("39 (VAELoader)", "wan2.2_vae.safetensors"),
    ]:  # every one, not only the first
        assert f"Node {node}: Value not in list" in take.error_message
        assert name in take.error_message
    assert comfy.submitted == [] and not take.charged  # refused, so never queued there


def test_a_node_the_server_lacks_is_named_with_its_id(workspace, monkeypatch, comfy):
    connect_comfy(monkeypatch, workspace, comfy.base_url, models=("ltx-2",))
    take = queue(workspace, model="ltx-2", size="1280x704", seconds=5)
    drive(comfy)
    take = refreshed(take)
    assert take.status == Status.FAILED and ".." not in take.error_message
    assert (
        "ComfyUI refused the workflow: Cannot execute because node LTXAVTextEncoderLoader "
        "does not exist. Node ID '#2')" in take.error_message
    )


def test_a_prompt_is_found_again_by_its_own_id(workspace, monkeypatch, comfy):
    from studio.providers.base import NOT_CREATED, Submission

    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy)
    client = endpoints.client_for(refreshed(take).endpoint)
    job = calls.job_for(refreshed(take))
    assert [v.id for v in client.find_created(job, Submission(key=job.key))] == [take.remote_id]
    other = calls.job_for(queue(workspace, subject="never sent"))
    assert client.find_created(other, Submission(key=other.key)) == NOT_CREATED


# --- bad input: refused before anything is queued ------------------------------------------


def generate(client, **extra):
    data = {
        "subject": "a kite",
        "camera": "static",
        "provider": "gpu",
        "model": "smoke",
        "size": "640x360",
        "seconds": "2",
        **extra,
    }
    page = client.post(reverse("generate", args=["harbour"]), data)
    return re.findall(r'class="error"[^>]*>([^<]*)<', html.unescape(page.content.decode()))


def test_switching_to_a_comfyui_model_resets_what_it_cannot_render(
    client, personas, workspace, monkeypatch
):
    connect_comfy(monkeypatch, workspace, "http://127.0.0.1:9", models=("smoke", "ltx-2"))
    client.force_login(personas["editor"])
    panel = client.post(
        reverse("compose_settings", args=["harbour"]),
        {"provider": "gpu", "model": "ltx-2", "size": "640x360", "seconds": "2"},
    ).content.decode()  # smoke's size and length, then the model switched
    assert 'value="1280x704" checked' in panel and 'value="5" checked' in panel
    assert "free local preview" not in panel
    assert "$0.00</strong> · LTX-2" in panel and "on your own GPU (gpu)" in panel
    kept = client.post(
        reverse("compose_settings", args=["harbour"]),
        {"provider": "gpu", "model": "ltx-2", "size": "704x1280", "seconds": "8"},
    ).content.decode()
    assert 'value="704x1280" checked' in kept and 'value="8" checked' in kept  # valid: kept


def test_a_server_that_is_down_or_garbage_queues_nothing(
    client, personas, workspace, monkeypatch, comfy
):
    client.force_login(personas["editor"])
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    comfy.faults.garbage = True
    errors = generate(client)
    assert any("isn't answering properly" in e and "nothing was queued" in e for e in errors)
    endpoint = workspace.endpoints.get()
    endpoint.base_url = "http://127.0.0.1:9"  # nothing listens there
    endpoint.save()
    errors = generate(client)
    assert any("isn't answering properly" in e for e in errors), errors
    assert not Take.objects.exists() and comfy.submitted == []


def test_a_template_missing_a_required_slot_queues_nothing(
    client, personas, workspace, monkeypatch, comfy, tmp_path
):
    (tmp_path / "smoke.json").write_text((workflows.FOLDER / "smoke.json").read_text())
    (tmp_path / "smoke.toml").write_text(
        '[slots]\nprompt = ["4", "value"]\nwidth = ["1", "width"]\nheight = ["1", "height"]\n'
    )
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    monkeypatch.setattr(workflows, "FOLDER", tmp_path)
    workflows.load.cache_clear()
    try:
        client.force_login(personas["editor"])
        errors = generate(client)
        assert any("missing the required slot frames" in e for e in errors), errors
    finally:
        workflows.load.cache_clear()
    assert not Take.objects.exists() and comfy.submitted == []


@pytest.mark.parametrize(
    ("graph", "slots", "message"),
    [
        ({}, {}, "has no nodes"),
        ({"1": {"inputs": {}}}, {}, "not in API format"),
        ({"1": {"class_type": "EmptyImage", "inputs": {}}}, {}, "saves no MP4"),
        ({"1": {"class_type": "SaveWEBM", "inputs": {}}}, {}, "saves no MP4"),
        ({"1": {"class_type": "SaveVideo", "inputs": {"format": "webm"}}}, {}, "saves no MP4"),
        (
            {"1": {"class_type": "VHS_VideoCombine", "inputs": {"format": "image/gif"}}},
            {},
            "saves no MP4",
        ),
        (
            {"1": {"class_type": "SaveVideo", "inputs": {"x": 1}}},
            {"prompt": ["1", "x"], "width": ["1", "x"], "height": ["1", "x"]},
            "missing the required slot frames",
        ),
        (
            {"1": {"class_type": "SaveVideo", "inputs": {"x": 1}}},
            {"prompt": ["9", "x"], "width": ["1", "x"], "height": ["1", "x"], "frames": ["1", "x"]},
            "there is no node 9",
        ),
        (
            {"1": {"class_type": "SaveVideo", "inputs": {"x": 1}}},
            {"prompt": ["1", "y"], "width": ["1", "x"], "height": ["1", "x"], "frames": ["1", "x"]},
            "has no input “y”",
        ),
    ],
)
def test_broken_templates_are_refused_saying_what_is_wrong(graph, slots, message):
    with pytest.raises(workflows.WorkflowInvalid, match=message):
        workflows.parse("mine", graph, {"slots": slots})


def test_every_shipped_template_is_valid():
    names = sorted(path.stem for path in workflows.FOLDER.glob("*.json"))
    assert names == ["ltx-2", "smoke", "smoke-image", "wan-2.2-ti2v-5b"]
    for name in names:
        workflow = workflows.load(name)
        assert set(workflows.REQUIRED) <= set(workflow.slots)


def test_the_check_names_the_server_version(workspace, monkeypatch, comfy):
    endpoint = connect_comfy(monkeypatch, workspace, comfy.base_url)
    assert "ComfyUI 0.3.64 answers" in endpoints.check_endpoint(endpoint)


def check(capsys, *args) -> tuple[int, list[str]]:
    try:
        call_command("provider", "check", *args)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, capsys.readouterr().out.splitlines()


def test_provider_check_says_per_template_what_the_server_lacks(
    workspace, monkeypatch, comfy, capsys
):
    comfy.models = {"diffusion_models": ["wan2.2_ti2v_5B_fp16.safetensors"]}
    models = ("smoke", "wan-2.2-ti2v-5b", "ltx-2")
    connect_comfy(monkeypatch, workspace, comfy.base_url, models=models)
    code, lines = check(capsys, "gpu", "--workspace", workspace.slug)
    assert code == 1 and lines[0] == "“gpu” answers: ComfyUI 0.3.64 answers."
    assert lines[1:] == [
        "Template “ltx-2”: the server lacks node LTXAVTextEncoderLoader (#2), "
        "checkpoints/ltx-2-19b-dev-fp8.safetensors, text_encoders/gemma_3_12B_it.safetensors.",
        "Template “smoke”: ready.",
        "Template “smoke-image”: ready.",
        "Template “wan-2.2-ti2v-5b”: the server lacks "
        "text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors, vae/wan2.2_vae.safetensors.",
    ]
    comfy.models = {
        "diffusion_models": ["wan2.2_ti2v_5B_fp16.safetensors"],
        "text_encoders": ["umt5_xxl_fp8_e4m3fn_scaled.safetensors"],
        "vae": ["wan2.2_vae.safetensors"],
    }
    endpoint = workspace.endpoints.get()
    endpoint.model_ids = ["wan-2.2-ti2v-5b"]
    endpoint.save()
    code, lines = check(capsys, "gpu", "--workspace", workspace.slug)
    assert code == 0 and lines[1:] == ["Template “wan-2.2-ti2v-5b”: ready."]


def test_a_prompt_waiting_behind_others_is_looked_at_by_its_place_not_watched(workspace):
    """One GPU renders one prompt at a time: with 3 ahead and one running, the next look
    comes halfway through their typical renders, not every watch slice."""
    from studio.engine.pacing import CAP, next_check_delay
    from studio.providers.base import RemoteVideo
    from studio.providers.endpoints import info_for

    take = offline_take(
        workspace,
        kind="comfyui",
        model="smoke",
        size="640x360",
        seconds=1,
        typical=30,
        base_url="http://127.0.0.1:8188",
    )
    info = info_for(take)
    waiting = RemoteVideo(id="p", status="queued", queue_position=3)
    assert next_check_delay(info, take, waiting, webhooks=False) == 60  # 4 × 30 s / 2
    next_up = RemoteVideo(id="p", status="queued", queue_position=0)  # one running ahead
    assert next_check_delay(info, take, next_up, webhooks=False) == 15
    far = RemoteVideo(id="p", status="queued", queue_position=30)
    assert next_check_delay(info, take, far, webhooks=False) == CAP


# --- many takes followed at once (the watcher) ------------------------------------------------


@pytest.fixture
def second_gpu():
    """Another ComfyUI server (each renders one prompt at a time: two takes run at once only
    on two servers)."""
    sim = ComfySimulator(ComfyFaults(render_seconds=0.3))
    with serve(sim) as running:
        sim.base_url = running.base_url
        yield sim


def watched_now() -> set[int]:
    return watcher.watched()


def test_a_take_that_finishes_is_completed_while_a_long_one_is_still_watched(
    workspace, monkeypatch, comfy, second_gpu
):
    """One task thread (the test's) and a ten-minute watch: a blocking slice would hold the
    thread on the long take for ten minutes, and the short take would wait behind it."""
    comfy.faults.steps, comfy.faults.render_seconds = 600, 600.0
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    connect_comfy(monkeypatch, workspace, second_gpu.base_url, name="gpu2")
    monkeypatch.setattr(settings, "SLATE_WATCH_SECONDS", 600.0)
    long = queue(workspace, subject="long")
    drive(comfy, until=lambda: "step" in refreshed(long).stage)
    assert watched_now() == {long.pk}  # handed over: no task waits on it
    short = queue(workspace, subject="short", provider="gpu2")
    drive(comfy, until=lambda: refreshed(short).is_terminal)
    assert refreshed(short).status == Status.COMPLETED, refreshed(short).error_message
    long = refreshed(long)
    assert long.status == Status.IN_PROGRESS and long.lease_owner  # still watched, leased
    assert watched_now() == {long.pk}
    takes.cancel(long.pk)
    drive(comfy)
    assert refreshed(long).status == Status.CANCELLED and watched_now() == set()


def test_a_watched_take_keeps_its_lease_and_the_sweep_leaves_it(workspace, monkeypatch, comfy):
    from studio.engine import sweep

    comfy.faults.steps, comfy.faults.render_seconds = 600, 600.0
    monkeypatch.setattr(settings, "SLATE_LEASE_SECONDS", 3.0)  # renewed every second
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    monkeypatch.setattr(settings, "SLATE_WATCH_SECONDS", 600.0)
    take = queue(workspace)
    drive(comfy, until=lambda: "step" in refreshed(take).stage)
    first = refreshed(take).lease_expires_at
    owner = take.lease_owner
    # Past the lease it was handed with: renewed, never run out (a generous bound only).
    drive(comfy, until=lambda: refreshed(take).lease_expires_at > first + timedelta(seconds=3))
    sweep.sweep()
    take = refreshed(take)
    assert take.lease_owner == owner and take.lease_losses == 0 and take.attempts <= 1
    assert take.status == Status.IN_PROGRESS and watched_now() == {take.pk}
    takes.cancel(take.pk)
    drive(comfy)
    assert refreshed(take).status == Status.CANCELLED and comfy.interrupts == 1


def test_a_stopping_worker_hands_its_watched_takes_back_to_the_queue(workspace, monkeypatch, comfy):
    comfy.faults.steps, comfy.faults.render_seconds = 600, 600.0
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    monkeypatch.setattr(settings, "SLATE_WATCH_SECONDS", 600.0)
    take = queue(workspace)
    drive(comfy, until=lambda: "step" in refreshed(take).stage)
    watcher.stop()  # as BackgroundWorker.stop does
    take = refreshed(take)
    assert take.status == Status.IN_PROGRESS and not take.lease_owner  # free for a restart
    assert take.next_check_at <= timezone.now()
    comfy.faults.render_seconds = 0.3  # the rest of its steps at once
    drive(comfy)  # picked up again: watched by a new watcher to the end
    take = refreshed(take)
    assert take.status == Status.COMPLETED and comfy.submitted == [str(take.client_key)]
    assert comfy.accepted_sockets >= 2 and take.charged == 0  # watched again after the stop


def test_with_the_watcher_off_a_take_is_followed_in_blocking_slices(workspace, monkeypatch, comfy):
    """SLATE_WATCHER=false, the benches' baseline: the task thread watches, nothing is handed."""
    comfy.faults.steps, comfy.faults.render_seconds = 6, 1.2
    monkeypatch.setattr(settings, "SLATE_WATCHER", False)
    connect_comfy(monkeypatch, workspace, comfy.base_url)
    take = queue(workspace)
    drive(comfy, until=lambda: "step" in refreshed(take).stage or refreshed(take).is_terminal)
    assert watched_now() == set()
    drive(comfy)
    assert refreshed(take).status == Status.COMPLETED and comfy.accepted_sockets >= 1
