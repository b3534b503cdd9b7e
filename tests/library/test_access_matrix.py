"""Every gallery, folder, share and review route for anonymous visitors, outsiders, viewers, editors
and owners: one table. Viewers look, star and download; editors file, tag, trash and share."""

import pytest
from django.urls import URLPattern, reverse

from library import folders, shares
from library.models import Folder
from library.public_urls import urlpatterns as public_urlpatterns
from library.urls import urlpatterns
from studio.models import Membership

from .helpers import make_take

pytestmark = pytest.mark.django_db

LOGIN = "login"
OK = 200
SEE_OTHER = 302
PERSONAS = ("anonymous", "outsider", "viewer", "editor", "owner")
PRESET_ROUTES = {  # covered by test_presets.py
    "panel",
    "use_template",
    "presets",
    "save_preset",
    "export",
    "import",
    "preset",
    "use_preset",
    "delete_preset",
}

# route name: (method, data, what each of PERSONAS gets, in that order)
MATRIX = {
    "gallery":        ("get",  {}, (LOGIN, 404, OK, OK, OK)),
    "create_folder":  ("post", {"name": "New"}, (LOGIN, 404, 403, SEE_OTHER, SEE_OTHER)),
    "folder":         ("get",  {}, (LOGIN, 404, 403, OK, OK)),
    "folder_change":  ("post", {"name": "Renamed"}, (LOGIN, 404, 403, SEE_OTHER, SEE_OTHER)),
    "star":           ("post", {}, (LOGIN, 404, SEE_OTHER, SEE_OTHER, SEE_OTHER)),
    # The gallery's detail drawer (player and prompt): every member looks.
    "take_drawer":    ("get",  {}, (LOGIN, 404, OK, OK, OK)),
    "bulk":           ("post", "TAKE", (LOGIN, 404, SEE_OTHER, SEE_OTHER, SEE_OTHER)),
    # Emptying the trash can't be undone: owners only.
    "empty_trash":    ("post", {}, (LOGIN, 404, 403, 403, SEE_OTHER)),
    "shares":         ("get",  {}, (LOGIN, 404, 403, OK, OK)),
    "revoke_share":   ("post", {}, (LOGIN, 404, 403, SEE_OTHER, SEE_OTHER)),
    # A viewer's take page asks for the share panel too: it comes back without a form.
    "share_take":     ("get",  {}, (LOGIN, 404, OK, OK, OK)),
    # Reviews: every member reviews (viewers too); circling the chosen take is an edit.
    "review":         ("get",  {}, (LOGIN, 404, OK, OK, OK)),
    "save_review":    ("post", {"rating": "4"}, (LOGIN, 404, OK, OK, OK)),
    "circle":         ("post", {}, (LOGIN, 404, 403, OK, OK)),
}  # fmt: skip


def test_every_gallery_route_is_in_the_matrix():
    names = {p.name for p in urlpatterns if isinstance(p, URLPattern)}
    assert names - PRESET_ROUTES == set(MATRIX)
    assert {p.name for p in public_urlpatterns} == {"share", "media", "review", "unlock"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access(client, personas, workspace, name, persona):
    method, data, expected = MATRIX[name]
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    take = make_take(workspace, video=b"mp4")
    folder = Folder.objects.create(workspace=workspace, name="Box")
    link, _ = shares.create(editor, take=take)
    args = {
        "folder": ["harbour", folder.pk],
        "folder_change": ["harbour", folder.pk, "rename"],
        "star": ["harbour", take.pk],
        "take_drawer": ["harbour", take.pk],
        "review": ["harbour", take.pk],
        "save_review": ["harbour", take.pk],
        "circle": ["harbour", take.pk],
        "revoke_share": ["harbour", link.pk],
        "share_take": ["harbour", take.pk],
    }.get(name, ["harbour"])
    if data == "TAKE":
        data = {"action": "star", "take": [take.pk]}
    if persona != "anonymous":
        client.force_login(personas[persona])
    response = getattr(client, method)(reverse(f"library:{name}", args=args), data)
    want = expected[PERSONAS.index(persona)]
    if want == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    else:
        assert response.status_code == want, response.content[:300]


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_share_link_opens_for_anyone_who_holds_it(client, personas, workspace, persona):
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    take = make_take(workspace, video=b"mp4")
    folders.file_takes([take], Folder.objects.create(workspace=workspace, name="Box"))
    _, token = shares.create(editor, take=take)
    if persona != "anonymous":
        client.force_login(personas[persona])
    assert client.get(reverse("library_public:share", args=[token])).status_code == OK
    media = client.get(reverse("library_public:media", args=[token, take.pk, "video"]))
    assert media.status_code == OK
    media.close()


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_password_link_asks_everyone_for_its_password_members_included(
    client, personas, workspace, persona
):
    editor = Membership.objects.get(user=personas["editor"], workspace=workspace)
    take = make_take(workspace, video=b"mp4")
    _, token = shares.create(editor, take=take, password="harbour-lights")
    if persona != "anonymous":
        client.force_login(personas[persona])
    media = reverse("library_public:media", args=[token, take.pk, "video"])
    assert (
        "has a password"
        in client.get(reverse("library_public:share", args=[token])).content.decode()
    )
    assert client.get(media).status_code == 403
    unlock = reverse("library_public:unlock", args=[token])
    assert client.post(unlock, {"password": "harbour-lights"}).status_code == SEE_OTHER
    opened = client.get(media)
    assert opened.status_code == OK
    opened.close()
