"""Every studio route for anonymous visitors, outsiders, viewers, editors and owners: one table.

With the library's, the storyboard's and the teams' tables, every route of every app has a
row: the last test here fails for a route added anywhere without one."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from library.public_urls import urlpatterns as public_urlpatterns
from library.urls import urlpatterns as library_urlpatterns
from storyboard.urls import urlpatterns as storyboard_urlpatterns
from studio.urls import urlpatterns
from teams.urls import urlpatterns as teams_urlpatterns
from tests.library.helpers import make_take
from tests.library.test_access_matrix import MATRIX as LIBRARY_MATRIX
from tests.library.test_access_matrix import PRESET_ROUTES
from tests.storyboard.test_pages import MATRIX as STORYBOARD_MATRIX
from tests.teams.test_access_matrix import MATRIX as TEAMS_MATRIX

pytestmark = pytest.mark.django_db

LOGIN = "login"  # sent to log in
OK = 200
SEE_OTHER = 302  # done, and sent on (POST/redirect/GET)
PERSONAS = ("anonymous", "outsider", "viewer", "editor", "owner")
READ = (LOGIN, 404, OK, OK, OK)
EDIT = (LOGIN, 404, 403, OK, OK)
SHOT = {"subject": "a red fox", "provider": "animatic", "size": "1280x720", "seconds": "4"}

# route name: (method, data, what each of PERSONAS gets, in that order)
MATRIX = {
    "workspace":         ("get",  {}, READ),
    "compose_preview":   ("post", SHOT, READ),
    "compose_settings":  ("post", {"provider": "animatic"}, READ),
    "providers":         ("get",  {}, READ),
    "add_provider":      ("post", {}, (LOGIN, 404, 403, 403, 400)),  # the form's errors
    "check_provider":    ("post", {}, (LOGIN, 404, 403, 403, OK)),
    "remove_provider":   ("post", {}, (LOGIN, 404, 403, 403, SEE_OTHER)),
    "generate":          ("post", SHOT, (LOGIN, 404, 403, SEE_OTHER, SEE_OTHER)),
    "upload_reference":  ("post", {}, EDIT),
    "reference_panel":   ("post", {}, READ),
    "reference_preview": ("get",  {}, (LOGIN, 404, 404, 404, 404)),  # no such reference
    "take":              ("get",  {}, READ),
    "take_cancel":       ("post", {}, (LOGIN, 404, 403, SEE_OTHER, SEE_OTHER)),
    "take_download":     ("get",  {}, READ),
    "take_operation":    ("post", {}, (LOGIN, 404, 403, 400, 400)),  # the form's errors
    "take_compare_pick": ("get",  "OTHER", (LOGIN, 404, SEE_OTHER, SEE_OTHER, SEE_OTHER)),
    "take_compare":      ("get",  {}, READ),
    "take_media":        ("get",  {}, READ),
}  # fmt: skip

# Routes every visitor may open, whose answers their own tests cover.
OPEN = {"home", "signup", "login", "logout", "provider_webhook"}


def test_every_route_of_every_app_is_in_a_matrix():
    def names(patterns) -> set[str]:
        return {p.name for p in patterns if isinstance(p, URLPattern)}

    assert names(urlpatterns) - OPEN == set(MATRIX)
    assert names(library_urlpatterns) == set(LIBRARY_MATRIX) | PRESET_ROUTES
    assert names(storyboard_urlpatterns) == set(STORYBOARD_MATRIX)
    assert names(teams_urlpatterns) == set(TEAMS_MATRIX)
    included = {
        resolver.urlconf_name.__name__
        for resolver in get_resolver().url_patterns
        if isinstance(resolver, URLResolver) and hasattr(resolver.urlconf_name, "__name__")
    }
    assert included == {"library.urls", "storyboard.urls", "teams.urls", "library.public_urls"}
    assert {p.name for p in public_urlpatterns} == {"share", "media", "review", "unlock"}


def args_for(name: str, workspace) -> list:
    if name.startswith("take"):
        take = make_take(workspace, video=b"mp4")
        if name == "take_operation":
            return [take.pk, "recut"]
        if name == "take_compare":
            return [take.pk, make_take(workspace, video=b"mp4").pk]
        if name == "take_media":
            return [take.pk, "video"]
        return [take.pk]
    if name in ("check_provider", "remove_provider"):
        return ["harbour", "gateway"]
    if name == "reference_preview":
        return ["harbour", 999999]
    return ["harbour"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access(client, personas, workspace, name, persona):
    method, data, expected = MATRIX[name]
    if name in ("check_provider", "remove_provider"):
        workspace.endpoints.create(
            name="gateway", kind="openai", base_url="https://gateway.example/v1"
        )
    if data == "OTHER":
        data = {"other": make_take(workspace, video=b"mp4").pk}
    if persona != "anonymous":
        client.force_login(personas[persona])
    response = getattr(client, method)(reverse(name, args=args_for(name, workspace)), data)
    want = expected[PERSONAS.index(persona)]
    if want == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    else:
        assert response.status_code == want, response.content[:300]
    if hasattr(response, "close"):
        response.close()
