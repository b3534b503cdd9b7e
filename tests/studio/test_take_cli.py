"""`manage.py take …`: operations on takes from the shell, their tree and diff."""

import json

import av
import pytest
from django.core.management import call_command

from studio import takes, workspaces
from studio.engine import local
from studio.models import Status, Take
from studio.prompts import Shot


@pytest.fixture
def clip(db):
    """A finished 2 s, 320x180 take in the install's local workspace (where the CLI works)."""
    workspace = workspaces.default_workspace()
    take = takes.queue_take(
        workspace,
        Shot(subject="paper boat", camera="pan left", lighting="overcast"),
        provider="animatic",
        size="320x180",
        seconds=2,
        seed=3,
    )
    local.run_take(take.pk)
    take.refresh_from_db()
    assert take.status == Status.COMPLETED
    return take


def take(capsys, *args):
    call_command("take", *[str(a) for a in args])
    return capsys.readouterr()


def refused(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exit:
        take(capsys, *args)
    err = capsys.readouterr().err
    assert exit.value.code == 2 and err.count("\n") == 1, err
    return err


def test_recut_wait_json_prints_the_new_take(capsys, clip):
    out = take(capsys, "recut", clip.pk, "--start", "0.25", "--end", "1.5", "--wait", "--json")
    row = json.loads(out.out)
    assert row["parents"] == [clip.pk] and (row["operation"], row["method"]) == ("recut", "local")
    assert row["status"] == "completed" and (row["width"], row["height"]) == (320, 180)
    assert row["duration"] == pytest.approx(1.25, abs=0.03)
    with av.open(row["path"]) as container:
        assert container.streams.video[0].frames == 30


def test_loop_and_extend_wait(capsys, clip):
    looped = json.loads(take(capsys, "loop", clip.pk, "--fade", "0.5", "--wait", "--json").out)
    assert looped["duration"] == pytest.approx(1.5, abs=0.03)
    extended = json.loads(take(capsys, "extend", clip.pk, "--seconds", 4, "--wait", "--json").out)
    assert extended["method"] == "chained" and extended["duration"] == pytest.approx(6, abs=0.05)


def test_remix_vary_and_blend_queue_children(capsys, clip):
    remix = json.loads(take(capsys, "remix", clip.pk, "--lighting", "neon", "--json").out)
    assert remix["status"] == "queued" and remix["operation"] == "remix"
    assert Take.objects.get(pk=remix["id"]).lighting == "neon"
    vary = json.loads(take(capsys, "vary", clip.pk, "--count", 3, "--json").out)
    assert [row["operation"] for row in vary["takes"]] == ["variation"] * 3
    other = take(capsys, "recut", clip.pk, "--start", 0, "--end", 1, "--wait", "--json").out
    other_id = json.loads(other)["id"]
    blend = json.loads(take(capsys, "blend", clip.pk, other_id, "--seconds", "0.5", "--json").out)
    assert blend["parents"] == [clip.pk, other_id] and blend["method"] == "local"


def test_tree_and_diff_json(capsys, clip):
    child = json.loads(take(capsys, "remix", clip.pk, "--camera", "whip pan", "--json").out)
    tree = json.loads(take(capsys, "tree", child["id"], "--json").out)
    assert tree["id"] == clip.pk and tree["operation"] == "generate"
    assert [(c["id"], c["operation"], c["method"]) for c in tree["children"]] == [
        (child["id"], "remix", "chained")
    ]
    diff = json.loads(take(capsys, "diff", clip.pk, child["id"], "--json").out)
    camera = next(row for row in diff["changed"] if row["field"] == "camera")
    assert (camera["a"], camera["b"]) == ("pan left", "whip pan")
    text = take(capsys, "tree", clip.pk).out
    assert f"* #{clip.pk} generate (native) completed" in text and "remix (chained)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("recut", "{id}", "--start", "1", "--end", "5"), "outside the take"),
        (("recut", "{id}", "--start", "1", "--end", "1"), "must come before"),
        (("recut", "{id}", "--start", "1", "--end", "1.01"), "shorter than one frame"),
        (("recut", "{id}", "--start", "nan", "--end", "1"), "invalid seconds value"),
        (("remix", "{id}", "--lighting", "overcast"), "changes nothing"),
        (("blend", "{id}", "{id}"), "itself"),
        (("vary", "{id}", "--count", "7"), "2 to 4"),
        (("extend", "{id}", "--seconds", "3"), "not 3"),
        (("loop", "999999"), "no take 999999"),
        (("frobnicate", "{id}"), "invalid choice"),
    ],
)
def test_invalid_input_is_one_line_exit_2_and_stores_nothing(capsys, clip, args, message):
    count = Take.objects.count()
    err = refused(capsys, *[a.format(id=clip.pk) for a in args])
    assert message in err and Take.objects.count() == count


def test_an_operation_on_an_unfinished_take_is_refused(capsys, clip):
    queued = json.loads(take(capsys, "loop", clip.pk, "--json").out)
    err = refused(capsys, "recut", queued["id"], "--start", 0, "--end", 1)
    assert "only a completed take" in err
