"""Every teams route for anonymous visitors, outsiders, viewers, editors and owners.

What each may do is one table; a route added to teams/urls.py without a row here fails."""

import pytest
from django.urls import URLPattern, reverse

from studio.models import Membership, Role
from teams import invites, notifications
from teams.models import NotificationKind
from teams.urls import urlpatterns

LOGIN = "login"  # sent to log in
OK = 200
SEE_OTHER = 302  # done, and sent on (POST/redirect/GET)

PERSONAS = ("anonymous", "outsider", "viewer", "editor", "owner")
SIGNUP = {"username": "new", "password1": "storyboard-42!", "password2": "storyboard-42!"}
MAIL = {"mail-email": "a@b.co", "mail-role": "viewer", "mail-days": 1}

# route name: (method, data, what each of PERSONAS gets, in that order)
MATRIX = {
    "members":        ("get",  {}, (LOGIN, 404, OK, OK, OK)),
    "create_link":    ("post", {"role": "viewer", "days": 1, "uses": 1},
                                   (LOGIN, 404, 403, 403, SEE_OTHER)),
    "email_invite":   ("post", MAIL, (LOGIN, 404, 403, 403, SEE_OTHER)),
    "revoke_invite":  ("post", {}, (LOGIN, 404, 403, 403, SEE_OTHER)),
    "change_role":    ("post", {"role": "editor"}, (LOGIN, 404, 403, 403, SEE_OTHER)),
    "remove_member":  ("post", {}, (LOGIN, 404, 403, 403, SEE_OTHER)),
    "transfer":       ("post", {}, (LOGIN, 404, 403, 403, SEE_OTHER)),
    "settings":       ("post", {"name": "Harbour Films", "slug": "harbour"},
                                   (LOGIN, 404, 403, 403, SEE_OTHER)),
    "budget":         ("get",  {}, (LOGIN, 404, OK, OK, OK)),
    "budget_save":    ("post", {"monthly": "100", "thresholds": "50, 80", "time_zone": "UTC"},
                                   (LOGIN, 404, 403, 403, SEE_OTHER)),
    "member_cap":     ("post", {"monthly": "10"}, (LOGIN, 404, 403, 403, SEE_OTHER)),
    "usage":          ("get",  {}, (LOGIN, 404, OK, OK, OK)),
    "usage_csv":      ("get",  {}, (LOGIN, 404, OK, OK, OK)),
    "audit":          ("get",  {}, (LOGIN, 404, 403, 403, OK)),
    "audit_csv":      ("get",  {}, (LOGIN, 404, 403, 403, OK)),
    # Anyone may leave what they are in; the last owner is told why not (and stays).
    "leave":          ("post", {}, (LOGIN, 404, SEE_OTHER, SEE_OTHER, SEE_OTHER)),
    # An invite is for whoever holds it: visitors may sign up, members are told they belong.
    "invite":         ("get",  {}, (OK, OK, OK, OK, OK)),
    "accept_invite":  ("post", {}, (LOGIN, SEE_OTHER, 409, 409, 409)),
    "invite_signup":  ("post", SIGNUP, (SEE_OTHER,) * 5),
    # One's own account.
    "account":                 ("get", {}, (LOGIN, OK, OK, OK, OK)),
    "password_change":         ("get", {}, (LOGIN, OK, OK, OK, OK)),
    "password_change_done":    ("get", {}, (LOGIN, OK, OK, OK, OK)),
    "password_reset":          ("get", {}, (OK,) * 5),
    "password_reset_done":     ("get", {}, (OK,) * 5),
    "password_reset_confirm":  ("get", {}, (OK,) * 5),  # a bad link says so
    "password_reset_complete": ("get", {}, (OK,) * 5),
    "notification_prefs":      ("post", {"email_long_takes": "on"}, (LOGIN,) + (SEE_OTHER,) * 4),
    # One's own notifications: one of the editor's is a 404 to everyone else.
    "notifications":           ("get", {}, (LOGIN, OK, OK, OK, OK)),
    "notifications_read":      ("post", {}, (LOGIN,) + (SEE_OTHER,) * 4),
    "notification":            ("get", {}, (LOGIN, 404, 404, SEE_OTHER, 404)),
}  # fmt: skip


def test_every_route_is_in_the_matrix():
    names = {p.name for p in urlpatterns if isinstance(p, URLPattern)}
    assert names == set(MATRIX)


def args_for(name: str, workspace, personas) -> list:
    if name in ("invite", "accept_invite", "invite_signup"):
        owner = Membership.objects.get(user=personas["owner"], workspace=workspace)
        return [invites.create_invite(workspace, by=owner, role=Role.VIEWER).token]
    if name == "revoke_invite":
        return ["harbour", invites.create_invite(workspace, role=Role.VIEWER).pk]
    if name in ("change_role", "remove_member", "transfer", "member_cap"):
        return ["harbour", Membership.objects.get(user=personas["viewer"]).pk]
    if name == "notification":
        kind = NotificationKind.ROLE_CHANGED
        return [notifications.notify(personas["editor"].pk, workspace.pk, kind, "x", "/").pk]
    if name == "password_reset_confirm":
        return ["MQ", "set-password"]
    if name.startswith(("account", "password", "notification")):
        return []
    return ["harbour"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access(client, personas, workspace, name, persona):
    method, data, expected = MATRIX[name]
    if persona != "anonymous":
        client.force_login(personas[persona])
    url = reverse(f"teams:{name}", args=args_for(name, workspace, personas))
    response = getattr(client, method)(url, data)
    want = expected[PERSONAS.index(persona)]
    if want == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    else:
        assert response.status_code == want, response.content[:300]
