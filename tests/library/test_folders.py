"""Folders nest, never loop and never orphan anything; filing gives each take one home; stars
are one's own and tags the workspace's; bad names are refused with nothing stored."""

import contextlib

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from library import folders
from library.folders import Refused
from library.models import Folder, Star, Tag, TakeFiling
from studio import takes
from studio.models import Membership, Workspace

pytestmark = pytest.mark.django_db


def member(personas, role="editor"):
    return Membership.objects.get(user=personas[role], workspace__slug="harbour")


def make_take(workspace, shot, **fields):
    return takes.queue_take(
        workspace, shot, provider="animatic", size="1280x720", seconds=4, **fields
    )


def test_folders_nest_and_show_as_a_tree(personas):
    editor = member(personas)
    films = folders.create_folder(editor, "  Films ")
    ads = folders.create_folder(editor, "Ads", films)
    folders.create_folder(editor, "Drafts", ads)
    folders.create_folder(editor, "Archive")
    shown = [(f.name, depth) for f, depth in folders.tree(editor.workspace, editor.user)]
    assert shown == [("Archive", 0), ("Films", 0), ("Ads", 1), ("Drafts", 2)]


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Give the folder a name."),
        ("   ", "Give the folder a name."),
        ("x" * 300, "at most 120 characters"),
        ("a/b", "can't hold /"),
        ("a\\b", "can't hold /"),
        ("..", "can't hold /"),
    ],
)
def test_bad_folder_names_are_refused_and_nothing_is_stored(personas, name, message):
    with pytest.raises(Refused, match=message):
        folders.create_folder(member(personas), name)
    assert not Folder.objects.exists()


def test_two_folders_of_one_name_in_one_place_are_refused(personas):
    editor = member(personas)
    films = folders.create_folder(editor, "Films")
    with pytest.raises(Refused, match="already a folder called"):
        folders.create_folder(editor, "films")
    folders.create_folder(editor, "Films", films)  # a different place is fine
    other = folders.create_folder(editor, "Other")
    with pytest.raises(Refused, match="already"):
        folders.rename_folder(other, "FILMS")


def test_a_folder_cannot_move_into_itself_or_below(personas):
    editor = member(personas)
    top = folders.create_folder(editor, "Top")
    mid = folders.create_folder(editor, "Mid", top)
    low = folders.create_folder(editor, "Low", mid)
    for target in (top, mid, low):
        with pytest.raises(Refused, match="inside itself"):
            folders.move_folder(top, target)
    assert Folder.objects.get(pk=top.pk).parent is None
    folders.move_folder(low, None)
    assert Folder.objects.get(pk=low.pk).parent is None


def test_deleting_a_folder_moves_what_it_holds(personas, workspace, shot):
    editor = member(personas)
    top = folders.create_folder(editor, "Top")
    doomed = folders.create_folder(editor, "Doomed", top)
    child = folders.create_folder(editor, "Child", doomed)
    take = make_take(workspace, shot)
    folders.file_takes([take], doomed)
    with pytest.raises(Refused):
        folders.delete_folder(doomed, contents_to=child)
    folders.delete_folder(doomed, contents_to=top)
    assert Folder.objects.get(pk=child.pk).parent == top
    assert TakeFiling.objects.get(take=take).folder == top
    folders.delete_folder(top)  # to the top level; its take becomes unfiled
    assert Folder.objects.get(pk=child.pk).parent is None
    assert not TakeFiling.objects.exists()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-1, 5)), max_size=25))
def test_any_sequence_of_moves_leaves_a_tree_without_cycles(moves):
    """Property: whatever moves people try, every folder still reaches the top level."""
    workspace, _ = Workspace.objects.get_or_create(slug="prop", defaults={"name": "Prop"})
    Folder.objects.filter(workspace=workspace).update(parent=None)
    Folder.objects.filter(workspace=workspace).delete()
    made = [Folder.objects.create(workspace=workspace, name=f"f{i}") for i in range(6)]
    for which, where in moves:
        with contextlib.suppress(Refused):
            folders.move_folder(made[which], made[where] if where >= 0 else None)
    parents = dict(Folder.objects.filter(workspace=workspace).values_list("pk", "parent"))
    for pk in parents:
        seen = set()
        while pk is not None:
            assert pk not in seen, "a cycle"
            seen.add(pk)
            pk = parents[pk]


def test_a_take_has_one_home(personas, workspace, shot):
    editor = member(personas)
    a, b = folders.create_folder(editor, "A"), folders.create_folder(editor, "B")
    take = make_take(workspace, shot)
    folders.file_takes([take], a)
    folders.file_takes([take], b)
    assert list(TakeFiling.objects.values_list("folder", flat=True)) == [b.pk]
    folders.file_takes([take], None)
    assert not TakeFiling.objects.exists()


def test_stars_are_per_user_and_tags_per_workspace(personas, workspace, shot):
    take = make_take(workspace, shot)
    assert folders.toggle_star(personas["viewer"], take) is True
    assert not Star.objects.filter(user=personas["editor"]).exists()
    assert folders.toggle_star(personas["viewer"], take) is False
    folders.tag_takes(workspace, [take], "hero, Night ,hero")
    folders.tag_takes(workspace, [take], "HERO")
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Night", "hero"]
    with pytest.raises(Refused, match="Type a tag"):
        folders.tag_takes(workspace, [take], " , ")
    with pytest.raises(Refused, match="at most 40"):
        folders.tag_takes(workspace, [take], "x" * 41)
    assert Tag.objects.count() == 2


def test_folder_pages_and_changes_over_http(client_for, personas, workspace):
    client = client_for(personas["editor"])
    created = client.post(reverse("library:create_folder", args=["harbour"]), {"name": "Films"})
    films = Folder.objects.get(name="Films")
    assert created.status_code == 302  # the view it was made from, not inside the new folder
    assert created["Location"] == reverse("library:gallery", args=["harbour"])
    bad = client.post(reverse("library:create_folder", args=["harbour"]), {"name": "a/b"})
    assert bad.status_code == 400 and "can&#x27;t hold /" in bad.content.decode()
    assert Folder.objects.count() == 1
    page = client.get(reverse("library:folder", args=["harbour", films.pk]))
    assert page.status_code == 200 and "The folder is empty." in page.content.decode()
    url = reverse("library:folder_change", args=["harbour", films.pk, "rename"])
    assert client.post(url, {"name": "Feature films"}).status_code == 302
    assert Folder.objects.get().name == "Feature films"
    url = reverse("library:folder_change", args=["harbour", films.pk, "move"])
    refused = client.post(url, {"parent": films.pk})
    assert refused.status_code == 400 and "inside itself" in refused.content.decode()


def test_deleting_a_full_folder_asks_where_its_contents_go(client_for, personas, workspace, shot):
    editor = member(personas)
    films = folders.create_folder(editor, "Films")
    keep = folders.create_folder(editor, "Keep")
    take = make_take(workspace, shot)
    folders.file_takes([take], films)
    client = client_for(personas["editor"])
    url = reverse("library:folder_change", args=["harbour", films.pk, "delete"])
    asked = client.post(url)
    assert asked.status_code == 400 and "choose where its contents go" in asked.content.decode()
    assert Folder.objects.filter(pk=films.pk).exists()
    assert client.post(url, {"contents_to": keep.pk}).status_code == 302
    assert TakeFiling.objects.get(take=take).folder == keep


def test_another_workspaces_folder_is_a_404(client_for, personas):
    elsewhere = Workspace.objects.get(slug="elsewhere")
    theirs = Folder.objects.create(workspace=elsewhere, name="Secret")
    client = client_for(personas["editor"])
    assert client.get(reverse("library:folder", args=["harbour", theirs.pk])).status_code == 404
    made = client.post(
        reverse("library:create_folder", args=["harbour"]), {"name": "x", "parent": theirs.pk}
    )
    assert made.status_code == 404 and Folder.objects.count() == 1
    moved = client.post(
        reverse("library:folder_change", args=["harbour", theirs.pk, "rename"]), {"name": "y"}
    )
    assert moved.status_code == 404
    assert (
        client.get(
            reverse("library:gallery", args=["harbour"]) + f"?folder={theirs.pk}"
        ).status_code
        == 404
    )


def test_a_workspace_goes_with_its_nested_folders_filings_and_links(personas, workspace, shot):
    editor = member(personas)
    top = folders.create_folder(editor, "Top")
    folders.create_folder(editor, "Inside", top)
    folders.file_takes([make_take(workspace, shot)], top)
    workspace.delete()
    assert not Folder.objects.filter(workspace_id=workspace.pk).exists()
    assert not TakeFiling.objects.exists()


def test_a_folder_made_while_viewing_another_goes_to_the_top_level_and_the_view_stays(
    personas, client_for
):
    films = folders.create_folder(member(personas), "Films")
    client = client_for(personas["editor"])
    gallery = reverse("library:gallery", args=["harbour"])
    page = client.get(gallery, {"folder": films.pk}).content.decode()
    assert '<option value="" selected>(top of Shared: everyone sees it)</option>' in page
    assert f'<option value="{films.pk}" selected>' not in page
    made = client.post(
        reverse("library:create_folder", args=["harbour"]),
        {"name": "Ads", "parent": "", "back": f"folder={films.pk}"},
    )
    assert made.status_code == 302 and made.url == f"{gallery}?folder={films.pk}"
    assert Folder.objects.get(name="Ads").parent is None
    landed = client.get(made.url).content.decode()
    assert "Folder “Ads” created at the top of Shared." in landed
