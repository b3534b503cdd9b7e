"""Personal folders: each member's own area beside the workspace's shared folders. Nobody else
sees them (404 through the folder filter, the folder page, moves, share links and the shell);
takes filed there stay the workspace's and show, unfiled, in everyone's All takes; a folder
always lives in its parent's area, and moving between areas is its owner's to do and says so."""

import contextlib
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import Http404
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from library import folders, shares
from library.folders import Refused
from library.models import Folder, ShareLink, TakeFiling
from studio.models import Membership, Role, Workspace

from .helpers import make_take

pytestmark = pytest.mark.django_db
GALLERY = reverse("library:gallery", args=["harbour"])


def member(personas, role="editor"):
    return Membership.objects.get(user=personas[role], workspace__slug="harbour")


def test_the_tree_shows_my_folders_and_the_shared_ones_and_nobody_elses(personas, client_for):
    editor = member(personas)
    mine = folders.create_folder(editor, "Rough ideas", personal=True)
    folders.create_folder(editor, "Sketches", mine)
    folders.create_folder(editor, "Client cut")
    page = client_for(personas["editor"]).get(GALLERY).content.decode()
    my_area = page[page.index('id="my-folders"') : page.index('id="shared-folders"')]
    shared_start = page.index('id="shared-folders"')
    shared_area = page[shared_start : page.index("</ul>", shared_start)]
    assert "Rough ideas" in my_area and "Sketches" in my_area and "Client cut" not in my_area
    assert "Client cut" in shared_area and "Rough ideas" not in shared_area
    theirs = client_for(personas["owner"]).get(GALLERY).content.decode()
    assert "Client cut" in theirs
    assert "Rough ideas" not in theirs and "Sketches" not in theirs


def test_a_folder_made_inside_a_personal_folder_is_personal_too(personas):
    editor = member(personas)
    mine = folders.create_folder(editor, "Mine", personal=True)
    inner = folders.create_folder(editor, "Inner", mine)
    assert inner.owner == personas["editor"]
    with pytest.raises(Http404):  # another member can't even name it as a parent
        folders.create_folder(member(personas, "owner"), "Sneaky", mine)


def test_names_are_unique_per_area(personas):
    editor, owner = member(personas), member(personas, "owner")
    folders.create_folder(editor, "Films", personal=True)
    folders.create_folder(editor, "Films")  # the shared area is another place
    folders.create_folder(owner, "Films", personal=True)  # so is someone else's area
    with pytest.raises(Refused, match="already a folder called"):
        folders.create_folder(editor, "films", personal=True)
    with pytest.raises(Refused, match="already a folder called"):
        folders.create_folder(owner, "FILMS")
    assert Folder.objects.count() == 3


def test_another_member_gets_404_for_your_personal_folder(personas, workspace, client_for):
    editor = member(personas)
    mine = folders.create_folder(editor, "Mine", personal=True)
    shared = folders.create_folder(editor, "Shared box")
    take = make_take(workspace, video=b"mp4")
    client = client_for(personas["owner"])
    slug = "harbour"
    assert client.get(GALLERY, {"folder": mine.pk}).status_code == 404
    assert client.get(reverse("library:folder", args=[slug, mine.pk])).status_code == 404
    for change, data in (
        ("rename", {"name": "Mine now"}),
        ("move", {"parent": shared.pk}),
        ("delete", {"contents_to": ""}),
    ):
        url = reverse("library:folder_change", args=[slug, mine.pk, change])
        assert client.post(url, data).status_code == 404, change
    moved_into = client.post(
        reverse("library:bulk", args=[slug]), {"action": "move", "take": take.pk, "folder": mine.pk}
    )
    assert moved_into.status_code == 404
    put_under = client.post(
        reverse("library:folder_change", args=[slug, shared.pk, "move"]), {"parent": mine.pk}
    )
    assert put_under.status_code == 404
    made_inside = client.post(
        reverse("library:create_folder", args=[slug]), {"name": "x", "parent": mine.pk}
    )
    assert made_inside.status_code == 404
    shared_it = client.post(reverse("library:shares", args=[slug]), {"folder": mine.pk})
    assert shared_it.status_code == 404
    mine.refresh_from_db()
    assert (mine.name, mine.parent, mine.owner) == ("Mine", None, personas["editor"])
    assert not TakeFiling.objects.exists() and not ShareLink.objects.exists()
    assert Folder.objects.get(pk=shared.pk).parent is None
    assert Folder.objects.count() == 2
    # Its owner, of course, sees and manages it.
    client = client_for(personas["editor"])
    assert client.get(reverse("library:folder", args=[slug, mine.pk])).status_code == 200
    assert client.get(GALLERY, {"folder": mine.pk}).status_code == 200


def test_takes_in_a_personal_folder_stay_in_everyones_all_takes_unfiled_to_them(
    personas, workspace, client_for
):
    editor = member(personas)
    mine = folders.create_folder(editor, "Secret plans", personal=True)
    take = make_take(workspace, "a red fox in the snow")
    client = client_for(personas["editor"])
    client.post(
        reverse("library:bulk", args=["harbour"]),
        {"action": "move", "take": take.pk, "folder": mine.pk},
    )
    assert TakeFiling.objects.get(take=take).folder == mine
    assert "Secret plans" in client.get(GALLERY).content.decode()  # on my card
    for persona in ("owner", "viewer"):
        others = client_for(personas[persona])
        for params in ({}, {"q": "fox"}, {"q": "Secret"}):
            response = others.get(GALLERY, params)
            page = response.content.decode()
            assert "Secret plans" not in page and f"folder={mine.pk}" not in page
        assert [t.pk for t in others.get(GALLERY, {"q": "fox"}).context["takes"]] == [take.pk]
        assert [t.pk for t in others.get(GALLERY).context["takes"]] == [take.pk]


def test_others_cannot_take_a_take_out_of_your_personal_folder(personas, workspace, client_for):
    mine = folders.create_folder(member(personas), "Mine", personal=True)
    shared = folders.create_folder(member(personas), "Shared box")
    take, other = make_take(workspace, "one"), make_take(workspace, "two")
    folders.file_takes([take], mine, by=personas["editor"])
    response = client_for(personas["owner"]).post(
        reverse("library:bulk", args=["harbour"]),
        {"action": "move", "take": [take.pk, other.pk], "folder": shared.pk},
    )
    assert response.status_code == 400
    assert "another member&#x27;s personal folder" in response.content.decode()
    assert "Mine" not in response.content.decode()
    assert TakeFiling.objects.get(take=take).folder == mine
    assert not TakeFiling.objects.filter(take=other).exists()  # all or nothing
    with pytest.raises(Http404):  # nor file anything into it
        folders.file_takes([other], mine, by=personas["owner"])
    folders.file_takes([take], shared, by=personas["editor"])  # its owner may
    assert TakeFiling.objects.get(take=take).folder == shared


def test_share_links_of_a_personal_folder_are_its_owners_alone(personas, workspace, client_for):
    editor, owner = member(personas), member(personas, "owner")
    mine = folders.create_folder(editor, "Mine", personal=True)
    with pytest.raises(Refused, match="shared by its owner only"):
        shares.create(owner, folder=mine)
    assert not ShareLink.objects.exists()
    link, _ = shares.create(editor, folder=mine)
    listing = reverse("library:shares", args=["harbour"])
    assert "Folder “Mine”" in client_for(personas["editor"]).get(listing).content.decode()
    client = client_for(personas["owner"])
    assert "Mine" not in client.get(listing).content.decode()
    revoke = reverse("library:revoke_share", args=["harbour", link.pk])
    assert client.post(revoke).status_code == 404
    link.refresh_from_db()
    assert link.revoked_at is None
    assert client_for(personas["editor"]).post(revoke).status_code == 302


def test_a_personal_folder_moves_to_shared_by_its_owner_and_says_so(personas, client_for):
    editor = member(personas)
    mine = folders.create_folder(editor, "Mine", personal=True)
    inner = folders.create_folder(editor, "Inner", mine)
    client = client_for(personas["editor"])
    moved = client.post(
        reverse("library:folder_change", args=["harbour", mine.pk, "move"]),
        {"parent": ""},
        follow=True,
    )
    assert "is shared now: everyone in the workspace sees it" in moved.content.decode()
    assert set(Folder.objects.values_list("owner", flat=True)) == {None}
    assert "Inner" in client_for(personas["owner"]).get(GALLERY).content.decode()
    # And back: its maker may take it private again, with everything inside it.
    said = folders.move_folder(Folder.objects.get(pk=mine.pk), None, editor.user, personal=True)
    assert "is in My folders now: only you see it" in said
    assert Folder.objects.get(pk=inner.pk).owner == personas["editor"]


def test_a_shared_folder_becomes_personal_only_if_everything_in_it_is_yours(personas):
    editor, owner = member(personas), member(personas, "owner")
    box = folders.create_folder(editor, "Box")
    theirs = folders.create_folder(owner, "Theirs", box)
    with pytest.raises(Refused, match="holds folders other members made"):
        folders.move_folder(box, None, editor.user, personal=True)
    folders.move_folder(theirs, None, owner.user)  # out to the shared top level
    link, _ = shares.create(owner, folder=box)
    with pytest.raises(Refused, match="share links other members made"):
        folders.move_folder(box, None, editor.user, personal=True)
    shares.revoke(link)
    with pytest.raises(Refused, match="holds folders other members made"):
        folders.move_folder(theirs, None, editor.user, personal=True)  # nor someone else's
    folders.move_folder(box, None, editor.user, personal=True)
    assert Folder.objects.get(pk=box.pk).owner == personas["editor"]
    assert Folder.objects.get(pk=theirs.pk).owner is None


def test_a_personal_folder_cannot_go_under_someone_elses(personas):
    editor, owner = member(personas), member(personas, "owner")
    mine = folders.create_folder(editor, "Mine", personal=True)
    theirs = folders.create_folder(owner, "Theirs", personal=True)
    with pytest.raises(Http404):
        folders.move_folder(mine, theirs, editor.user)
    with pytest.raises(Http404):  # nor can they move mine at all
        folders.move_folder(mine, None, owner.user)
    assert Folder.objects.get(pk=mine.pk).parent is None


def test_deleting_a_personal_folder_keeps_its_contents_in_my_folders(personas, workspace):
    editor = member(personas)
    mine = folders.create_folder(editor, "Mine", personal=True)
    inner = folders.create_folder(editor, "Inner", mine)
    shared = folders.create_folder(editor, "Shared box")
    with pytest.raises(Refused, match="stay in My folders"):
        folders.delete_folder(mine, contents_to=shared)
    folders.delete_folder(mine)
    inner.refresh_from_db()
    assert inner.parent is None and inner.owner == personas["editor"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(-1, 5), st.booleans(), st.sampled_from("ab")),
        max_size=25,
    )
)
def test_any_moves_by_anyone_keep_one_tree_per_area(moves):
    """Property: whoever tries whatever move, every folder still reaches the top level, sits
    in its parent's area, and nobody's folder ends up in another member's area."""
    workspace, _ = Workspace.objects.get_or_create(slug="prop-areas", defaults={"name": "P"})
    Folder.objects.filter(workspace=workspace).update(parent=None)
    Folder.objects.filter(workspace=workspace).delete()
    people = {}
    for key in "ab":
        user, _ = get_user_model().objects.get_or_create(username=f"prop-{key}")
        people[key], _ = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": Role.EDITOR}
        )
    made = [
        Folder.objects.create(
            workspace=workspace,
            name=f"f{i}",
            owner=people["a"].user if i < 2 else people["b"].user if i < 4 else None,
            created_by=people["a"].user if i < 2 or i == 4 else people["b"].user,
        )
        for i in range(6)
    ]
    for which, where, personal, who in moves:
        folder = Folder.objects.get(pk=made[which].pk)
        target = Folder.objects.get(pk=made[where].pk) if where >= 0 else None
        with contextlib.suppress(Refused, Http404):
            folders.move_folder(folder, target, people[who].user, personal=personal)
    rows = {
        pk: (parent, owner)
        for pk, parent, owner in Folder.objects.filter(workspace=workspace).values_list(
            "pk", "parent", "owner"
        )
    }
    assert len(rows) == 6  # nothing lost
    for pk, (parent, owner) in rows.items():
        if parent is not None:
            assert rows[parent][1] == owner, "a folder outside its parent's area"
        seen = set()
        while pk is not None:
            assert pk not in seen, "a cycle"
            seen.add(pk)
            pk = rows[pk][0]


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_shell_finds_a_personal_folder_only_as_its_owner(personas, workspace, tmp_path):
    mine = folders.create_folder(member(personas), "Mine", personal=True)
    folders.file_takes([make_take(workspace, "fox", video=b"\x00\x01" * 50)], mine)
    for args in (
        ["share", "create", "--folder", str(mine.pk)],
        ["share", "create", "--folder", str(mine.pk), "--as", "owner"],
        ["library", "export", "--folder", str(mine.pk), "--workspace", "harbour", "--out", "x"],
    ):
        with pytest.raises(SystemExit) as exit_:
            run(*args)
        assert exit_.value.code == 2, args
    assert not ShareLink.objects.exists()
    made = json.loads(run("share", "create", "--folder", str(mine.pk), "--as", "editor", "--json"))
    assert made["folder"] == mine.pk
    out = tmp_path / "mine.zip"
    args = ["--folder", str(mine.pk), "--workspace", "harbour", "--as", "editor", "--out", out]
    run("library", "export", *map(str, args))
    assert out.stat().st_size > 0
