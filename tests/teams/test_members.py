"""The members page: who is in a workspace, and what its owners change there."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from studio import takes
from studio.asgi import application
from studio.models import Membership, Role, Take, Workspace
from teams import members
from teams.models import Refused
from tests.conftest import make_user
from tests.studio.test_pages_a11y import check


def member(workspace, user) -> Membership:
    return Membership.objects.get(workspace=workspace, user=user)


def role_of(workspace, user) -> str:
    return member(workspace, user).role


def test_everyone_sees_who_is_here_with_role_and_last_activity(
    client_for, personas, workspace, shot
):
    take = takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
    Take.objects.filter(pk=take.pk).update(created_by=personas["editor"])
    personas["owner"].email = "owner@example.com"
    personas["owner"].save()
    page = client_for(personas["owner"]).get(reverse("teams:members", args=["harbour"]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index(">owner") < html.index(">editor") < html.index(">viewer")
    assert 'id="member-' in html and "owner@example.com" in html and "Invite people" in html
    editor_row = html[html.index(f'id="member-{member(workspace, personas["editor"]).pk}"') :]
    assert "now</time>" in editor_row.split("</tr>")[0]  # their take counts as activity


def test_a_viewer_sees_the_page_read_only(client_for, personas):
    html = client_for(personas["viewer"]).get(reverse("teams:members", args=["harbour"]))
    html = html.content.decode()
    assert "Editor" in html and "Owner" in html
    assert "Invite people" not in html and "Transfer ownership" not in html
    assert "/role/" not in html and "Withdraw" not in html and "Leave Harbour Films" in html


@pytest.mark.parametrize("who", ["owner", "viewer"])
def test_every_column_of_the_members_table_has_a_header(client_for, personas, who):
    html = client_for(personas[who]).get(reverse("teams:members", args=["harbour"]))
    (table,) = check(html.content.decode()).tables
    assert table["headers"][:3] == ["Member", "Role", "Last active"]
    assert table["headers"][3:] == (["Actions"] if who == "owner" else [])


def test_outsiders_get_404_and_visitors_log_in(client, client_for, personas):
    url = reverse("teams:members", args=["harbour"])
    assert client_for(personas["outsider"]).get(url).status_code == 404
    client.logout()
    assert client.get(url)["Location"].startswith("/login/")


def test_an_owner_changes_a_role(client_for, personas, workspace):
    target = member(workspace, personas["viewer"])
    response = client_for(personas["owner"]).post(
        reverse("teams:change_role", args=["harbour", target.pk]), {"role": "editor"}
    )
    assert response.status_code == 302
    assert role_of(workspace, personas["viewer"]) == Role.EDITOR


@pytest.mark.parametrize("persona", ["editor", "viewer"])
@pytest.mark.parametrize("action", ["change_role", "remove_member", "transfer"])
def test_non_owners_get_403_for_member_changes(client_for, personas, workspace, persona, action):
    target = member(workspace, personas["viewer" if persona == "editor" else "editor"])
    response = client_for(personas[persona]).post(
        reverse(f"teams:{action}", args=["harbour", target.pk]), {"role": "owner"}
    )
    assert response.status_code == 403
    assert {m.user.username: m.role for m in workspace.memberships.all()} == {
        "owner": "owner",
        "editor": "editor",
        "viewer": "viewer",
    }


def test_a_bad_role_is_refused_and_changes_nothing(client_for, personas, workspace):
    target = member(workspace, personas["viewer"])
    client = client_for(personas["owner"])
    client.post(reverse("teams:change_role", args=["harbour", target.pk]), {"role": "god"})
    assert role_of(workspace, personas["viewer"]) == Role.VIEWER
    page = client.get(reverse("teams:members", args=["harbour"])).content.decode()
    assert "Choose a role" in page


def test_the_last_owner_cannot_demote_themselves_or_leave(client_for, personas, workspace):
    client = client_for(personas["owner"])
    me = member(workspace, personas["owner"])
    client.post(reverse("teams:change_role", args=["harbour", me.pk]), {"role": "editor"})
    assert role_of(workspace, personas["owner"]) == Role.OWNER
    page = client.get(reverse("teams:members", args=["harbour"])).content.decode()
    assert "Harbour Films needs an owner" in page and "Transfer ownership" in page
    client.post(reverse("teams:leave", args=["harbour"]))
    assert role_of(workspace, personas["owner"]) == Role.OWNER
    page = client.get(reverse("teams:members", args=["harbour"])).content.decode()
    assert "then leave" in page


def test_with_a_second_owner_an_owner_may_step_down(personas, workspace):
    Membership.objects.filter(workspace=workspace, user=personas["editor"]).update(role=Role.OWNER)
    me = member(workspace, personas["owner"])
    members.change_role(workspace, me.pk, Role.VIEWER, by=me)
    assert role_of(workspace, personas["owner"]) == Role.VIEWER


def test_transfer_ownership_swaps_roles(client_for, personas, workspace):
    target = member(workspace, personas["viewer"])
    response = client_for(personas["owner"]).post(
        reverse("teams:transfer", args=["harbour", target.pk])
    )
    assert response.status_code == 302
    assert role_of(workspace, personas["viewer"]) == Role.OWNER
    assert role_of(workspace, personas["owner"]) == Role.EDITOR


def test_a_member_leaves(client_for, personas, workspace):
    response = client_for(personas["editor"]).post(reverse("teams:leave", args=["harbour"]))
    assert response["Location"] == "/"
    assert not Membership.objects.filter(workspace=workspace, user=personas["editor"]).exists()


def test_an_owner_removes_a_member_but_not_themselves(client_for, personas, workspace):
    client = client_for(personas["owner"])
    target = member(workspace, personas["editor"])
    client.post(reverse("teams:remove_member", args=["harbour", target.pk]))
    assert not Membership.objects.filter(pk=target.pk).exists()
    me = member(workspace, personas["owner"])
    with pytest.raises(Refused, match="Leave workspace"):
        members.remove(me, me.pk)
    response = client.post(reverse("teams:remove_member", args=["harbour", 99999]))
    assert response.status_code == 302  # "no longer a member", said on the page


def test_a_member_of_another_workspace_cannot_be_reached_by_id(client_for, personas, workspace):
    elsewhere = Membership.objects.get(user=personas["outsider"])
    client_for(personas["owner"]).post(
        reverse("teams:remove_member", args=["harbour", elsewhere.pk])
    )
    assert Membership.objects.filter(pk=elsewhere.pk).exists()


def test_an_owner_renames_the_workspace_and_its_slug(client_for, personas, workspace):
    client = client_for(personas["owner"])
    response = client.post(
        reverse("teams:settings", args=["harbour"]), {"name": "Harbour & Co", "slug": "harbour-co"}
    )
    assert response["Location"] == "/w/harbour-co/members/"
    workspace.refresh_from_db()
    assert (workspace.name, workspace.slug) == ("Harbour & Co", "harbour-co")
    client.post(reverse("teams:settings", args=["harbour-co"]), {"name": "H", "slug": "harbour-co"})
    workspace.refresh_from_db()
    assert (workspace.name, workspace.slug) == ("H", "harbour-co")  # the slug kept as it was


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "slug": "x"},
        {"name": "X", "slug": "no spaces"},
        {"name": "X", "slug": "elsewhere"},
    ],
)
def test_bad_settings_are_refused_and_change_nothing(client_for, personas, workspace, data):
    response = client_for(personas["owner"]).post(reverse("teams:settings", args=["harbour"]), data)
    assert response.status_code == 400 and b'role="alert"' in response.content
    assert b"Harbour Films" in response.content  # the page still shows the saved name
    workspace.refresh_from_db()
    assert (workspace.name, workspace.slug) == ("Harbour Films", "harbour")


def test_editors_cannot_change_settings(client_for, personas, workspace):
    response = client_for(personas["editor"]).post(
        reverse("teams:settings", args=["harbour"]), {"name": "Mine", "slug": "mine"}
    )
    assert response.status_code == 403
    assert Workspace.objects.filter(slug="harbour", name="Harbour Films").exists()


def test_the_nav_links_to_members(client_for, personas):
    html = client_for(personas["viewer"]).get(reverse("workspace", args=["harbour"])).content
    assert b'href="/w/harbour/members/"' in html


async def viewer_watching(personas, workspace, client, settings):
    """The viewer's studio socket, open past its snapshot, their membership, and the owner
    signed in on ``client``."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "studio.layers.ThreadSafeInMemoryChannelLayer"}
    }
    ws = WebsocketCommunicator(
        application, "/ws/w/harbour/", headers=[(b"origin", b"http://localhost")]
    )
    ws.scope["user"] = personas["viewer"]
    connected, _ = await ws.connect()
    assert connected
    await ws.receive_from(timeout=2)  # the snapshot
    target = await sync_to_async(member)(workspace, personas["viewer"])
    await sync_to_async(client.force_login)(personas["owner"])
    return ws, target


@pytest.mark.django_db(transaction=True)
async def test_removing_a_viewer_on_the_members_page_closes_their_socket_at_once(
    personas, workspace, client, settings
):
    ws, target = await viewer_watching(personas, workspace, client, settings)
    response = await sync_to_async(client.post)(
        reverse("teams:remove_member", args=["harbour", target.pk])
    )
    assert response.status_code == 302
    closed = await ws.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4403}


@pytest.mark.django_db(transaction=True)
async def test_a_promoted_viewers_open_page_is_told_at_once(personas, workspace, client, settings):
    ws, target = await viewer_watching(personas, workspace, client, settings)
    response = await sync_to_async(client.post)(
        reverse("teams:change_role", args=["harbour", target.pk]), {"role": "editor"}
    )
    assert response.status_code == 302
    html = await ws.receive_from(timeout=2)
    assert 'id="role-notice"' in html and 'hx-swap-oob="innerHTML"' in html
    assert "Your role in Harbour Films changed to <strong>Editor</strong>" in html
    assert 'id="take-list"' in html  # the live parts, as an editor sees them
    await ws.disconnect()


def test_a_person_with_no_workspace_left_gets_a_studio_of_their_own(client_for, personas):
    lone = make_user("lone")
    Membership.objects.create(user=lone, workspace=Workspace.objects.get(slug="harbour"))
    client = client_for(lone)
    client.post(reverse("teams:leave", args=["harbour"]))
    assert client.get("/")["Location"].startswith("/w/")


def test_ownership_is_not_transferred_to_an_owner(personas, workspace):
    Membership.objects.filter(user=personas["editor"]).update(role=Role.OWNER)
    me = member(workspace, personas["owner"])
    with pytest.raises(Refused, match="already an owner"):
        members.transfer_ownership(me, member(workspace, personas["editor"]).pk)
    assert role_of(workspace, personas["owner"]) == Role.OWNER


def test_the_members_page_costs_the_same_queries_for_3_or_30_members(
    client_for, personas, workspace, django_assert_max_num_queries
):
    client = client_for(personas["owner"])
    url = reverse("teams:members", args=["harbour"])
    client.get(url)  # warm: session, and the like
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for n in range(27):
        Membership.objects.create(user=make_user(f"m{n}"), workspace=workspace, role=Role.VIEWER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_a_refused_member_is_told_what_only_owners_may_do(client_for, personas, workspace):
    target = member(workspace, personas["viewer"])
    response = client_for(personas["editor"]).post(
        reverse("teams:change_role", args=["harbour", target.pk]), {"role": "owner"}
    )
    assert response.status_code == 403
    assert b"Only the workspace&#x27;s owners can change roles." in response.content
    check(response.content.decode())


def test_a_refused_form_post_goes_back_to_its_page_with_the_reason(client_for, personas, workspace):
    page = reverse("teams:members", args=["harbour"])
    target = member(workspace, personas["viewer"])
    client = client_for(personas["editor"])  # a members page from when they were an owner
    url = reverse("teams:change_role", args=["harbour", target.pk])
    response = client.post(url, {"role": "owner"}, headers={"Referer": f"http://testserver{page}"})
    assert response.status_code == 302 and response["Location"] == f"http://testserver{page}"
    html = client.get(page).content.decode()
    assert "Only the workspace&#x27;s owners can change roles." in html
    assert role_of(workspace, personas["viewer"]) == Role.VIEWER


@pytest.mark.parametrize(
    ("referer", "htmx"),
    [
        ("", False),  # nowhere known to go back to
        ("https://elsewhere.example/members/", False),  # never off the site
        ("/same/", False),  # the endpoint itself: a GET there is no page
        ("http://testserver/w/harbour/members/", True),  # htmx shows its 403 as a toast
    ],
)
def test_a_refused_post_without_a_page_to_go_back_to_keeps_its_403(
    client_for, personas, workspace, referer, htmx
):
    target = member(workspace, personas["viewer"])
    url = reverse("teams:change_role", args=["harbour", target.pk])
    headers = {"Referer": url if referer == "/same/" else referer}
    if htmx:
        headers["HX-Request"] = "true"
    response = client_for(personas["editor"]).post(url, {"role": "owner"}, headers=headers)
    assert response.status_code == 403


def test_a_form_from_an_old_page_goes_back_to_it_to_be_sent_again(personas, workspace):
    page = f"http://testserver{reverse('teams:members', args=['harbour'])}"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["owner"])
    browser.get(page)  # the page's token, then a log-in elsewhere rotates it
    browser.cookies["csrftoken"] = "x" * 32
    target = member(workspace, personas["viewer"])
    url = reverse("teams:change_role", args=["harbour", target.pk])
    form = {"role": "editor", "csrfmiddlewaretoken": "y" * 32}
    response = browser.post(url, form, headers={"Referer": page})
    assert response.status_code == 302 and response["Location"] == page
    assert "That form had expired, so nothing was sent" in browser.get(page).content.decode()
    assert role_of(workspace, personas["viewer"]) == Role.VIEWER
    bare = browser.post(url, form)  # nowhere known to go back to: the page that explains
    assert bare.status_code == 403 and b"This form has expired" in bare.content


def test_an_owner_demoted_a_moment_ago_cannot_act_on_a_stale_page(personas, workspace):
    me = member(workspace, personas["owner"])  # as the page loaded it: owner
    Membership.objects.filter(user=personas["editor"]).update(role=Role.OWNER)
    Membership.objects.filter(pk=me.pk).update(role=Role.VIEWER)  # the other owner demoted me
    with pytest.raises(PermissionDenied):
        members.remove(me, member(workspace, personas["editor"]).pk)
    assert role_of(workspace, personas["editor"]) == Role.OWNER


def test_a_member_promoted_a_moment_ago_to_last_owner_cannot_leave(personas, workspace):
    me = member(workspace, personas["editor"])  # as the page loaded it: editor
    Membership.objects.filter(pk=me.pk).update(role=Role.OWNER)
    Membership.objects.filter(user=personas["owner"]).update(role=Role.VIEWER)
    with pytest.raises(Refused, match="needs an owner"):
        members.leave(me)
