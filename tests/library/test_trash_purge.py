"""Purging the trash: after SLATE_TRASH_DAYS, or at once by an owner's "Empty trash". A purge
deletes the take's media files (after the commit, and only files no other take names) and
what library kept to organise it; the take row, its ledger and its lineage stay. Purged
takes never come back to the library; still-rendering takes wait; other workspaces' trash is
untouched."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from library import folders, shares, trash
from library.models import Folder, Review, ShareLink, Star, TakeFiling, TakeTag, TrashedTake
from studio.engine import sweep
from studio.models import LedgerEntry, Membership, Status, Take, Workspace

from .helpers import make_take
from .test_cli import run

pytestmark = pytest.mark.django_db
VIDEO = b"\x00\x00\x00\x18ftypmp42" * 20
GALLERY = reverse("library:gallery", args=["harbour"])
EMPTY = reverse("library:empty_trash", args=["harbour"])


def trashed(workspace, prompt="a fox", *, days_ago=0, user=None, **fields):
    take = make_take(workspace, prompt, video=VIDEO, **fields)
    folders.trash(user, [take])
    if days_ago:
        TrashedTake.objects.filter(take=take).update(at=timezone.now() - timedelta(days=days_ago))
    return take


def test_only_takes_trashed_longer_than_the_setting_are_purged(
    workspace, settings, django_capture_on_commit_callbacks
):
    settings.SLATE_TRASH_DAYS = 30
    old = trashed(workspace, "old", days_ago=31)
    recent = trashed(workspace, "recent", days_ago=29)
    kept = make_take(workspace, "not trashed", video=VIDEO)
    old_file = old.video.name
    with django_capture_on_commit_callbacks(execute=True):
        purged = trash.purge_overdue()
    assert (purged.takes, purged.files, purged.waiting) == (1, 1, 0)
    assert not default_storage.exists(old_file)
    old.refresh_from_db()
    assert old.video.name == "" and old.composed_prompt == "old"  # the record stays
    assert TrashedTake.objects.get(take=old).purged_at is not None
    assert default_storage.exists(recent.video.name) and default_storage.exists(kept.video.name)
    assert TrashedTake.objects.get(take=recent).purged_at is None


def test_the_workers_housekeeping_purges_overdue_trash_once_an_interval(
    workspace, settings, django_capture_on_commit_callbacks
):
    settings.SLATE_TRASH_DAYS, settings.SLATE_HOUSEKEEPING_SECONDS = 30, 3600
    sweep._last_housekeeping.pop("trash purge", None)
    old = trashed(workspace, "old", days_ago=31)
    with django_capture_on_commit_callbacks(execute=True):
        done = sweep.housekeeping(now=1000.0)
    assert done["trash purge"].takes == 1
    assert TrashedTake.objects.get(take=old).purged_at is not None
    later = trashed(workspace, "later", days_ago=31)
    assert "trash purge" not in sweep.housekeeping(now=1000.0 + 3599)  # not due yet
    assert TrashedTake.objects.get(take=later).purged_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.housekeeping(now=1000.0 + 3600)["trash purge"].takes == 1
    assert TrashedTake.objects.get(take=later).purged_at is not None


def test_a_purge_keeps_the_take_its_ledger_and_its_childrens_lineage(
    workspace, personas, django_capture_on_commit_callbacks
):
    parent = make_take(workspace, "parent", video=VIDEO, charged=Decimal("1.20"))
    LedgerEntry.objects.create(
        workspace=workspace, take=parent, kind="charge", amount=Decimal("1.20")
    )
    child = make_take(workspace, "child", video=VIDEO, parent=parent, root=parent)
    folders.trash(personas["editor"], [parent])
    with django_capture_on_commit_callbacks(execute=True):
        trash.empty_trash(workspace)
    child.refresh_from_db()
    assert Take.objects.filter(pk=parent.pk).exists()
    assert child.parent_id == parent.pk and child.root_id == parent.pk
    assert LedgerEntry.objects.filter(take=parent).count() == 1
    assert default_storage.exists(child.video.name)


def test_a_purge_removes_what_library_organised_and_keeps_what_people_said(
    workspace, personas, django_capture_on_commit_callbacks
):
    take = make_take(workspace, video=VIDEO)
    box = Folder.objects.create(workspace=workspace, name="Box")
    folders.file_takes([take], box)
    folders.tag_takes(workspace, [take], "hero")
    folders.set_star(personas["viewer"], [take])
    Review.objects.create(take=take, reviewer=personas["owner"], rating=4)
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    shares.create(editor, take=take)
    folder_link, _ = shares.create(editor, folder=box)
    folders.trash(personas["editor"], [take])
    with django_capture_on_commit_callbacks(execute=True):
        trash.empty_trash(workspace)
    assert not TakeFiling.objects.exists() and not TakeTag.objects.exists()
    assert not Star.objects.exists()
    assert list(ShareLink.objects.all()) == [folder_link]  # the folder's link stays
    assert Review.objects.filter(take=take, rating=4).exists()


def test_a_file_another_take_still_names_is_not_deleted(
    workspace, django_capture_on_commit_callbacks
):
    gone = trashed(workspace)
    twin = make_take(workspace)
    Take.objects.filter(pk=twin.pk).update(video=gone.video.name)
    with django_capture_on_commit_callbacks(execute=True):
        purged = trash.empty_trash(workspace)
    assert purged.takes == 1 and purged.files == 0
    assert default_storage.exists(gone.video.name)


def test_takes_still_rendering_wait_in_the_trash(workspace, django_capture_on_commit_callbacks):
    rendering = trashed(workspace, status=Status.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        purged = trash.empty_trash(workspace)
    assert (purged.takes, purged.waiting) == (0, 1)
    assert "still rendering" in str(purged)
    assert TrashedTake.objects.get(take=rendering).purged_at is None
    assert default_storage.exists(rendering.video.name)


def test_nothing_is_deleted_when_the_purge_rolls_back(
    workspace, django_capture_on_commit_callbacks
):
    take = trashed(workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        trash.empty_trash(workspace)
    assert len(callbacks) == 1  # the files go only once the purge has committed
    assert default_storage.exists(take.video.name)


def test_a_purged_take_is_gone_from_the_library_for_good(
    workspace, personas, client_for, django_capture_on_commit_callbacks
):
    take = trashed(workspace, "purged fox")
    with django_capture_on_commit_callbacks(execute=True):
        trash.empty_trash(workspace)
    client = client_for(personas["editor"])
    assert list(client.get(GALLERY).context["takes"]) == []
    assert list(client.get(GALLERY, {"trash": "1"}).context["takes"]) == []
    restored = client.post(
        reverse("library:bulk", args=["harbour"]),
        {"action": "restore", "take": [take.pk]},
        follow=True,
    )
    assert [str(m) for m in restored.context["messages"]] == ["Restored 0 takes from the trash."]
    assert TrashedTake.objects.get(take=take).purged_at is not None
    assert shares.unshareable(Take.objects.get(pk=take.pk))
    # The studio's own page for it still opens: the record is there, the video isn't.
    record = client.get(reverse("take", args=[take.pk]))
    assert record.status_code == 200 and "purged fox" in record.content.decode()


def test_an_owner_empties_the_trash_after_confirming_and_is_told_what_went(
    workspace, personas, client_for, django_capture_on_commit_callbacks
):
    first, second = trashed(workspace, "one"), trashed(workspace, "two")
    client = client_for(personas["owner"])
    page = client.get(GALLERY, {"trash": "1"}).content.decode()
    assert "Empty trash" in page and "can't be restored" in page
    assert "<details" in page[page.index("Empty trash") - 200 : page.index("Empty trash")]
    with django_capture_on_commit_callbacks(execute=True):
        emptied = client.post(EMPTY, follow=True)
    assert emptied.redirect_chain[-1][0].endswith("?trash=1")
    assert [str(m) for m in emptied.context["messages"]] == [
        "Emptied the trash. Purged 2 takes (videos deleted; prompts, costs and lineage stay"
        " in the studio's records)."
    ]
    assert not default_storage.exists(first.video.name)
    assert not default_storage.exists(second.video.name)


@pytest.mark.parametrize("persona, status", [("editor", 403), ("viewer", 403), ("outsider", 404)])
def test_only_owners_may_empty_the_trash(workspace, personas, client_for, persona, status):
    take = trashed(workspace)
    client = client_for(personas[persona])
    assert client.post(EMPTY).status_code == status
    assert "Empty trash" not in client.get(GALLERY, {"trash": "1"}).content.decode()
    assert TrashedTake.objects.get(take=take).purged_at is None
    assert default_storage.exists(take.video.name)


def test_emptying_one_workspaces_trash_leaves_anothers_alone(
    workspace, personas, client_for, django_capture_on_commit_callbacks
):
    theirs = trashed(Workspace.objects.get(slug="elsewhere"), "their fox")
    mine = trashed(workspace, "my fox")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(personas["owner"]).post(EMPTY)
    assert TrashedTake.objects.get(take=mine).purged_at is not None
    assert TrashedTake.objects.get(take=theirs).purged_at is None
    assert default_storage.exists(theirs.video.name)


def test_the_shell_purges_overdue_trash_of_every_workspace(
    workspace, settings, django_capture_on_commit_callbacks
):
    settings.SLATE_TRASH_DAYS = 7
    elsewhere = Workspace.objects.get_or_create(slug="elsewhere", defaults={"name": "E"})[0]
    mine = trashed(workspace, days_ago=8)
    theirs = trashed(elsewhere, days_ago=8)
    fresh = trashed(workspace, days_ago=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = json.loads(run("library", "purge-trash", "--json"))
    assert result == {"purged": 2, "files": 2, "waiting": 0}
    assert TrashedTake.objects.filter(purged_at__isnull=False).count() == 2
    assert TrashedTake.objects.get(take=fresh).purged_at is None
    assert not default_storage.exists(mine.video.name)
    assert not default_storage.exists(theirs.video.name)
    again = json.loads(run("library", "purge-trash", "--json"))
    assert again == {"purged": 0, "files": 0, "waiting": 0}  # each take is purged once


def test_the_shell_empties_one_workspaces_trash_on_request(workspace, capsys):
    fresh = trashed(workspace, days_ago=1)
    assert "Purged 1 take" in run(
        "library", "purge-trash", "--everything", "--workspace", "harbour"
    )
    assert TrashedTake.objects.get(take=fresh).purged_at is not None
    with pytest.raises(SystemExit) as exited:
        call_command("library", "purge-trash", "--everything")
    assert exited.value.code == 2 and "--workspace" in capsys.readouterr().err


def test_the_trash_says_when_each_take_will_be_purged(workspace, personas, client_for, settings):
    settings.SLATE_TRASH_DAYS = 30
    take = trashed(workspace, days_ago=10)
    page = client_for(personas["viewer"]).get(GALLERY, {"trash": "1"})
    due = timezone.localtime(TrashedTake.objects.get(take=take).at + timedelta(days=30))
    due = due.date().isoformat()
    assert f"purged {due}" in page.content.decode()
    assert "Takes stay in the trash 30 days" in page.content.decode()
