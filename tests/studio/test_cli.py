"""`manage.py generate`: JSON out, one-line errors with exit code 2, works with no account."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest
from django.core.management import call_command

from studio.models import Take, Workspace
from tests.conftest import REPO


def generate(capsys, *args):
    call_command("generate", *args)
    return capsys.readouterr()


def test_wait_json_renders_and_prints_one_object(db, capsys):
    out = generate(
        capsys,
        "--subject",
        "paper boat",
        "--motion",
        "drifts along the gutter",
        "--camera",
        "handheld, low angle",
        "--lighting",
        "overcast",
        "--atmosphere",
        "rain on asphalt",
        "--size",
        "720x1280",
        "--seconds",
        "4",
        "--wait",
        "--json",
    ).out
    result = json.loads(out)
    take = Take.objects.get()
    assert result["id"] == take.pk and result["status"] == "completed"
    assert (result["width"], result["height"]) == (720, 1280)
    assert result["duration"] == pytest.approx(4, abs=0.05)
    assert result["workspace"] == "local" and Workspace.objects.get().is_default
    with av.open(result["path"]) as container:
        assert container.streams.video[0].codec_context.width == 720


def test_without_wait_it_queues_for_the_studio_worker(
    db, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = json.loads(generate(capsys, "--prompt", "a kite over dunes", "--json").out)
    assert result["status"] == "queued" and result["path"] is None
    assert Take.objects.get().task_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--subject", "x", "--size", "640x480"],
            "error: --size: Animatic preview (local, free) doesn't render “640x480”",
        ),
        (
            ["--subject", "x", "--seconds", "5"],
            "error: --seconds: Animatic preview (local, free) makes clips of 4, 8, 12 seconds",
        ),
        (
            ["--subject", "x", "--provider", "veo"],
            "error: --provider: Unknown provider “veo”. This workspace has: animatic.",
        ),
        ([], "error: Describe the shot"),
        (
            ["--prompt", "z" * 4001],
            "error: --prompt: The composed prompt is 4,002 characters; Animatic preview (local,"
            " free) takes at most 4,000",
        ),
        (["--subject", "x", "--workspace", "nope"], "error: no workspace with the slug “nope”"),
        (["--subject", "x", "--seconds"], "error: argument --seconds: expected one argument"),
    ],
)
def test_invalid_input_is_one_line_on_stderr_and_exit_2(db, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        generate(capsys, *args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith(message) and err.count("\n") == 1
    assert not Take.objects.exists() and not Workspace.objects.exists()


def test_a_fresh_install_generates_from_the_shell(tmp_path):
    """A real process on an empty data folder: no account, no server, no keys."""
    env = {**os.environ, "SLATE_VAR_DIR": str(tmp_path / "var")}
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=REPO)
    done = subprocess.run(
        [*manage, "generate", "--subject", "fox", "--camera", "pan left", "--wait", "--json"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,  # bounds only a run going wrong
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed" and Path(result["path"]).is_file()
    assert str(tmp_path / "var" / "media") in result["path"]

    bad = subprocess.run(
        [*manage, "generate", "--subject", "fox", "--size", "huge"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stdout == ""


def test_generate_with_a_provider_reports_the_providers_side(db, capsys, monkeypatch, tmp_path):
    from PIL import Image

    from studio import workspaces
    from tests.support.engine import connect, simulator

    sim = simulator()
    connect(monkeypatch, workspaces.default_workspace(), sim)
    picture = tmp_path / "first frame.jpg"
    Image.new("RGB", (2000, 1500), "teal").save(picture)  # not 16:9: it gets fitted
    out = generate(
        capsys,
        "--subject",
        "gulls over the pier",
        "--provider",
        "sim",
        "--model",
        "sora-2",
        "--seconds",
        "8",
        "--reference",
        str(picture),
        "--wait",
        "--json",
    ).out
    result = json.loads(out)
    video = sim.videos[result["provider_video_id"]]
    assert result["status"] == "completed" and video.has_reference
    assert result["sha256"] == hashlib.sha256(sim.asset(video)).hexdigest()
    assert result["charged"] == "0.8000" and result["error"] is None


def test_a_refused_take_exits_1_with_the_reason(db, capsys, monkeypatch):
    from studio import workspaces
    from tests.support.engine import connect, simulator

    connect(monkeypatch, workspaces.default_workspace(), simulator())
    with pytest.raises(SystemExit) as exit_info:
        generate(capsys, "--subject", "REFUSE", "--provider", "sim", "--wait", "--json")
    result = json.loads(capsys.readouterr().out)
    assert exit_info.value.code == 1 and result["status"] == "refused"
    assert "moderation" in result["error"] and result["charged"] == "0.0000"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provider", "sim", "--model", "veo-9"], "--model: “sim” doesn't serve model “veo-9”"),
        (["--provider", "sim", "--size", "1792x1024"], "--size: Sora 2 doesn't render “1792x1024”"),
        (["--reference", "/nonexistent.png"], "--reference: Can't read nonexistent.png"),
    ],
)
def test_bad_provider_input_is_one_line_and_stores_nothing(db, capsys, monkeypatch, args, message):
    from studio import workspaces
    from tests.support.engine import connect, simulator

    connect(monkeypatch, workspaces.default_workspace(), simulator())
    with pytest.raises(SystemExit) as exit_info:
        generate(capsys, "--subject", "x", *args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith(f"error: {message}"), err
    assert not Take.objects.exists()


def test_the_cli_prints_the_cost_estimate(db, capsys, monkeypatch):
    from studio import workspaces
    from tests.support.engine import connect, simulator

    connect(monkeypatch, workspaces.default_workspace(), simulator())
    out = generate(
        capsys,
        "--subject",
        "a kite",
        "--provider",
        "sim",
        "--model",
        "sora-2-pro",
        "--size",
        "1792x1024",
        "--seconds",
        "12",
    ).out
    assert "Estimated cost: $6.00" in out
