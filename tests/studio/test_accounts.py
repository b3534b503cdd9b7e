from django.urls import reverse

from studio import workspaces
from studio.models import Membership, Role, Workspace
from tests.conftest import make_user


def sign_up(client, username):
    return client.post(
        reverse("signup"),
        {"username": username, "password1": "storyboard-42!", "password2": "storyboard-42!"},
    )


def test_first_user_owns_the_installs_local_workspace(client, db):
    made_by_cli = workspaces.default_workspace()  # the CLI ran before anyone signed up
    response = sign_up(client, "mara")
    assert response.status_code == 302 and response["Location"] == "/w/local/"
    membership = Membership.objects.get(user__username="mara")
    assert membership.workspace == made_by_cli and membership.role == Role.OWNER


def test_later_users_get_a_personal_workspace(client, db):
    workspaces.onboard(make_user("first"))
    response = sign_up(client, "jon")
    membership = Membership.objects.get(user__username="jon")
    assert membership.role == Role.OWNER and not membership.workspace.is_default
    assert response["Location"] == f"/w/{membership.workspace.slug}/"
    assert client.get(response["Location"]).status_code == 200  # and they are logged in


def test_signup_refuses_bad_input_and_stores_nothing(client, db):
    response = client.post(
        reverse("signup"), {"username": "x", "password1": "123", "password2": "456"}
    )
    assert response.status_code == 200
    assert b'id="id_password2_error" role="alert"' in response.content
    assert not Workspace.objects.exists() and not Membership.objects.exists()


def test_login_and_logout(client, db):
    user = make_user("ana")
    workspaces.onboard(user)
    response = client.post(reverse("login"), {"username": "ana", "password": "pw-ana"})
    assert response.status_code == 302
    assert client.get("/", follow=True).request["PATH_INFO"] == "/w/local/"
    client.post(reverse("logout"))
    assert client.get("/w/local/").status_code == 302


def test_home_sends_visitors_to_log_in(client, db):
    assert client.get("/")["Location"] == reverse("login")


def test_default_workspace_is_created_once(db):
    assert workspaces.default_workspace() == workspaces.default_workspace()
    assert Workspace.objects.filter(is_default=True).count() == 1
