"""The providers page: owners add, check and remove endpoints; keys never come back out."""

import socket

import pytest
from django.urls import reverse

from studio import secretbox, takes
from studio.models import ProviderEndpoint
from studio.prompts import Shot
from studio.providers import endpoints
from tests.support.engine import KEY, connect, simulator

pytestmark = pytest.mark.django_db

FORM = {
    "name": "studio-gw",
    "base_url": "https://gw.example.com/v1",
    "auth_style": "bearer",
    "api_key": "sk-live-0123456789abcdef",
    "models": "sora-2, wan-2.5",
    "webhook_secret": "",
    "requests_per_minute": "25",
}


def test_an_owner_adds_a_provider_and_the_key_is_sealed(client, personas):
    client.force_login(personas["owner"])
    response = client.post(reverse("add_provider", args=["harbour"]), FORM)
    assert response.status_code == 302
    endpoint = ProviderEndpoint.objects.get()
    assert endpoint.model_ids == ["sora-2", "wan-2.5"] and endpoint.api_key_hint == "…cdef"
    assert "sk-live" not in endpoint.api_key_encrypted  # encrypted at rest
    assert secretbox.unseal(endpoint.api_key_encrypted) == FORM["api_key"]
    page = client.get(reverse("providers", args=["harbour"])).content.decode()
    assert "studio-gw" in page and "…cdef" in page and FORM["api_key"] not in page


def test_a_bad_provider_is_explained_and_not_saved(client, personas):
    client.force_login(personas["owner"])
    response = client.post(
        reverse("add_provider", args=["harbour"]),
        {**FORM, "name": "animatic", "api_key": "sk-live-0123456789abcdef"},
    )
    html = response.content.decode()
    assert response.status_code == 400 and "not “animatic”" in html
    assert FORM["api_key"] not in html  # not even echoed back into the form
    assert not ProviderEndpoint.objects.exists()


@pytest.mark.parametrize(
    "change, field, says",
    [
        ({"name": "studio gw"}, "name", "letters, digits, - and _ only (no spaces)"),
        ({"requests_per_minute": "-1"}, "requests_per_minute", "a whole number from 0"),
        ({"requests_per_minute": "20000"}, "requests_per_minute", "from 0 (no limit) to 10,000"),
    ],
)
def test_a_bad_field_is_explained_in_slates_words(client, personas, change, field, says):
    client.force_login(personas["owner"])
    response = client.post(reverse("add_provider", args=["harbour"]), {**FORM, **change})
    html = response.content.decode()
    error = html.split(f'id="id_{field}_error"', 1)[1].split("</", 1)[0]
    assert response.status_code == 400 and says in error
    assert "Ensure this value" not in html and "“slug”" not in html
    assert not ProviderEndpoint.objects.exists()


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_owners_change_providers(client, personas, workspace, role):
    endpoint = endpoints.add_endpoint(
        workspace,
        name="gw",
        kind="openai",
        base_url="https://gw.example/v1",
        api_key=KEY,
        models=["sora-2"],
    )
    client.force_login(personas[role])
    assert client.get(reverse("providers", args=["harbour"])).status_code == 200
    assert client.post(reverse("add_provider", args=["harbour"]), FORM).status_code == 403
    assert client.post(reverse("remove_provider", args=["harbour", "gw"])).status_code == 403
    assert client.post(reverse("check_provider", args=["harbour", "gw"])).status_code == 403
    assert ProviderEndpoint.objects.get() == endpoint


def test_outsiders_get_404(client, personas, workspace):
    endpoints.add_endpoint(
        workspace,
        name="gw",
        kind="openai",
        base_url="https://gw.example/v1",
        api_key=KEY,
        models=["sora-2"],
    )
    client.force_login(personas["outsider"])
    assert client.get(reverse("providers", args=["harbour"])).status_code == 404
    assert client.post(reverse("remove_provider", args=["harbour", "gw"])).status_code == 404


def test_check_connection_answers_inline(client, personas, workspace, monkeypatch):
    connect(monkeypatch, workspace, simulator())
    client.force_login(personas["owner"])
    response = client.post(
        reverse("check_provider", args=["harbour", "sim"]), headers={"HX-Request": "true"}
    )
    assert "answers: the key works" in response.content.decode()


def test_a_provider_with_takes_in_flight_cannot_be_removed(
    client, personas, workspace, monkeypatch
):
    connect(monkeypatch, workspace, simulator())
    takes.queue_take(
        workspace, Shot(subject="x"), provider="sim", model="sora-2", size="1280x720", seconds=4
    )
    client.force_login(personas["owner"])
    page = client.post(reverse("remove_provider", args=["harbour", "sim"]), follow=True)
    assert "still being made" in page.content.decode() and ProviderEndpoint.objects.exists()


def test_the_composer_offers_the_providers_models_and_their_costs(
    client, personas, workspace, monkeypatch
):
    connect(monkeypatch, workspace, simulator())
    client.force_login(personas["editor"])
    panel = client.post(
        reverse("compose_settings", args=["harbour"]),
        {"provider": "sim", "model": "sora-2", "size": "1280x720", "seconds": "8"},
    ).content.decode()
    assert '<option value="sora-2" selected>' in panel and "sora-2-pro" in panel
    assert "$0.80" in panel and "8 s × $0.10/s" in panel
    assert 'value="1792x1024"' not in panel  # Sora 2 renders 720p only…
    assert "1792x1024: not rendered by Sora 2; try" in panel  # …and it says where to go instead
    pro = client.post(
        reverse("compose_settings", args=["harbour"]),
        {"provider": "sim", "model": "sora-2-pro", "size": "1792x1024", "seconds": "12"},
    ).content.decode()
    assert 'value="1792x1024"' in pro and "$6.00" in pro


def test_fal_and_comfyui_are_added_from_the_page_with_their_defaults(client, personas, settings):
    settings.SLATE_PUBLIC_URL = ""
    client.force_login(personas["owner"])
    add = reverse("add_provider", args=["harbour"])
    fal = {
        "name": "fal",
        "kind": "fal",
        "api_key": "fal-key-0123:secret",
        "webhooks": "on",
        "requests_per_minute": "25",
    }
    assert client.post(add, fal).status_code == 302
    gpu = {
        "name": "gpu",
        "kind": "comfyui",
        "base_url": "http://127.0.0.1:8188",
        "models": "smoke, ltx-2",
        "requests_per_minute": "25",
    }
    assert client.post(add, gpu).status_code == 302
    made = {e.name: e for e in ProviderEndpoint.objects.all()}
    assert made["fal"].base_url == "https://queue.fal.run" and made["fal"].use_webhooks
    assert made["fal"].model_ids == ["fal-ai/veo3.1"]
    assert made["gpu"].kind == "comfyui" and made["gpu"].model_ids == ["smoke", "ltx-2"]
    page = client.get(reverse("providers", args=["harbour"])).content.decode()
    assert "live from the server's websocket" in page  # ComfyUI's card
    # fal's card: callbacks wait for the studio's public address
    assert "polling until <code>SLATE_PUBLIC_URL</code> is set" in page


@pytest.mark.parametrize(
    "form, says",
    [
        ({"name": "fal", "kind": "fal"}, "An API key is needed"),
        ({"name": "gpu", "kind": "comfyui", "models": "fal-ai/veo3.1"}, "fal-ai/veo3.1"),
        (
            {"name": "or", "kind": "openai", "profile": "openrouter", "api_key": "sk-or-1234567"},
            "base URL",
        ),
    ],
)
def test_a_provider_that_cant_work_is_explained_and_not_saved(client, personas, form, says):
    client.force_login(personas["owner"])
    response = client.post(
        reverse("add_provider", args=["harbour"]), {**form, "requests_per_minute": "25"}
    )
    html = response.content.decode()
    error = html[html.index('id="error-form"') :].split("</div>", 1)[0]  # the form's own error
    assert response.status_code == 400 and says in error
    assert not ProviderEndpoint.objects.exists()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_fresh_workspace_lists_the_built_in_animatic(client, personas):
    client.force_login(personas["owner"])
    page = client.get(reverse("providers", args=["harbour"])).content.decode()
    assert 'id="provider-animatic"' in page and "built in, free, nothing to configure" in page
    assert "No providers yet" not in page


def test_a_server_with_no_key_and_nothing_listening_is_said_plainly(client, personas, workspace):
    port = closed_port()
    endpoints.add_endpoint(
        workspace, name="gpu", kind="comfyui", base_url=f"http://127.0.0.1:{port}", models=["smoke"]
    )
    client.force_login(personas["owner"])
    page = client.get(reverse("providers", args=["harbour"])).content.decode()
    key = page.split("<dt>Key</dt>", 1)[1].split("</div>", 1)[0]
    assert key == "<dd>none</dd>"
    check = client.post(reverse("check_provider", args=["harbour", "gpu"])).content.decode()
    said = f"Nothing answers at http://127.0.0.1:{port} (connection refused)."
    assert said in check and 'class="check bad"' in check and "Errno" not in check
