"""`manage.py provider add`: every kind from the shell, bad input refused in one line."""

import json

import pytest
from django.core.management import call_command

from studio.models import ProviderEndpoint

pytestmark = pytest.mark.django_db


GATEWAY = [
    "--kind", "openai", "--profile", "gateway", "--base-url", "https://gw.test/v1",
    "--api-key-env", "PROVIDER_KEY",
]  # fmt: skip


def add(capsys, monkeypatch, *args):
    monkeypatch.setenv("PROVIDER_KEY", "sk-test-0123456789")
    try:
        call_command("provider", "add", *args)
        code = 0
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    "args",
    [
        ["gw", *GATEWAY, "--models", "kling-3"],
        ["fal", "--kind", "fal", "--api-key-env", "PROVIDER_KEY"],
        ["gpu", "--kind", "comfyui", "--base-url", "http://127.0.0.1:8188"],
    ],
    ids=["gateway", "fal", "comfyui"],
)
def test_each_kind_is_added_from_the_shell(capsys, monkeypatch, args):
    code, out, err = add(capsys, monkeypatch, *args)
    assert code == 0 and out.startswith(f"Added “{args[0]}”"), err
    assert "sk-test-0123456789" not in out + err


def test_an_override_naming_an_unknown_aspect_is_one_line_and_stores_nothing(capsys, monkeypatch):
    overrides = {
        "kling-3": {
            "aspects": ["16:9", "21:9"],
            "resolutions": ["1080p"],
            "seconds": [5, 10],
            "max_prompt_chars": 100,
        }
    }
    code, out, err = add(
        capsys,
        monkeypatch,
        "gw",
        *GATEWAY,
        "--models",
        "kling-3",
        "--overrides",
        json.dumps(overrides),
    )
    assert code == 2 and "21:9" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not ProviderEndpoint.objects.exists()


def test_callbacks_without_a_public_address_are_polled_and_said_so(capsys, monkeypatch, settings):
    settings.SLATE_PUBLIC_URL = ""
    code, out, err = add(
        capsys, monkeypatch, "fal", "--kind", "fal", "--api-key-env", "PROVIDER_KEY", "--webhooks"
    )
    assert code == 0 and "SLATE_PUBLIC_URL" in err and "Webhook URL" not in out
    endpoint = ProviderEndpoint.objects.get()
    assert endpoint.use_webhooks and not endpoint.has_webhooks  # polled until it is set
    settings.SLATE_PUBLIC_URL = "https://studio.example"
    assert endpoint.has_webhooks


def test_a_secret_on_an_openai_endpoint_needs_no_public_address(capsys, monkeypatch, settings):
    settings.SLATE_PUBLIC_URL = ""  # OpenAI's webhook URL is set once in its dashboard
    monkeypatch.setenv("HOOK_SECRET", "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=")
    code, out, err = add(
        capsys,
        monkeypatch,
        "oa",
        "--kind",
        "openai",
        "--base-url",
        "https://api.test/v1",
        "--api-key-env",
        "PROVIDER_KEY",
        "--webhook-secret-env",
        "HOOK_SECRET",
    )
    assert code == 0, err
    assert ProviderEndpoint.objects.get().has_webhooks and "Webhook URL" in out


def test_an_unknown_profile_key_is_refused(capsys, monkeypatch):
    code, out, err = add(
        capsys,
        monkeypatch,
        "gw",
        *GATEWAY,
        "--profile-map",
        '{"bogus": 1}',
    )
    assert code == 2 and "bogus" in err and not ProviderEndpoint.objects.exists()
