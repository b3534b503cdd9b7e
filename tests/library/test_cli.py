"""The library from the shell: share create / list / revoke, search, export; bad input is one
line on stderr and exit code 2."""

import io
import json
import zipfile

import pytest
from django.core.management import call_command

from library import folders
from library.models import Folder, ShareLink
from studio.models import Workspace

from .helpers import make_take

pytestmark = pytest.mark.django_db

VIDEO = b"\x00\x01" * 100


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_share_create_list_and_revoke(workspace, client, settings):
    settings.SLATE_PUBLIC_URL = "https://slate.example"
    take = make_take(workspace, "a fox", video=VIDEO)
    made = json.loads(run("share", "create", "--take", str(take.pk), "--download", "--json"))
    assert made["url"].startswith("https://slate.example/s/") and made["expires_at"]
    assert made["download"] is True and made["take"] == take.pk
    path = made["url"].removeprefix("https://slate.example")
    assert client.get(path).status_code == 200
    listed = json.loads(run("share", "list", "--json"))
    assert [link["id"] for link in listed["links"]] == [made["id"]]
    run("share", "revoke", str(made["id"]))
    assert client.get(path).status_code == 404
    assert json.loads(run("share", "list", "--json")) == {"links": []}


def test_share_folder_that_never_expires(workspace):
    box = Folder.objects.create(workspace=workspace, name="Box")
    made = json.loads(
        run("share", "create", "--folder", str(box.pk), "--expires", "never", "--json")
    )
    assert made["expires_at"] is None and ShareLink.objects.get().folder == box


@pytest.mark.parametrize(
    "args, message",
    [
        (["share", "create", "--take", "999"], "no take 999"),
        (["share", "create", "--take", "TAKE", "--expires", "soon"], "not a duration"),
        (["share", "create", "--take", "UNFINISHED"], "no video yet"),
        (["share", "revoke", "999"], "no share link 999"),
        (
            ["library", "export", "--query", "nothing", "--out", "OUT", "--workspace", "harbour"],
            "nothing to put in a zip",
        ),
        (["library", "search", "x", "--workspace", "nope"], "no workspace"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(workspace, capsys, tmp_path, args, message):
    take = make_take(workspace, video=VIDEO)
    unfinished = make_take(workspace, status="queued")
    args = [
        {
            "TAKE": str(take.pk),
            "UNFINISHED": str(unfinished.pk),
            "OUT": str(tmp_path / "a.zip"),
        }.get(a, a)
        for a in args
    ]
    with pytest.raises(SystemExit) as exited:
        call_command(*args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not ShareLink.objects.exists() and not (tmp_path / "a.zip").exists()


def test_search_and_export(workspace, tmp_path):
    fox = make_take(workspace, "a red fox", video=VIDEO, model="sora-2")
    make_take(workspace, "a whale", video=VIDEO)
    folders.tag_takes(workspace, [fox], "hero")
    found = json.loads(
        run("library", "search", "fox", "--tag", "hero", "--workspace", "harbour", "--json")
    )
    assert [t["id"] for t in found["takes"]] == [fox.pk]
    box = Folder.objects.create(workspace=workspace, name="Box")
    folders.file_takes([fox], box)
    out = tmp_path / "fox.zip"
    run("library", "export", "--folder", str(box.pk), "--workspace", "harbour", "--out", str(out))
    archive = zipfile.ZipFile(out)
    assert len(archive.namelist()) == 3  # the video and two manifests
    assert json.loads(archive.read("manifest.json"))[0]["id"] == fox.pk
    other = Workspace.objects.get_or_create(slug="other", defaults={"name": "Other"})[0]
    assert Folder.objects.filter(workspace=other).count() == 0
