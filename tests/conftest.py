import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from studio import takes
from studio.engine import local
from studio.models import Membership, Role, Status, Workspace
from studio.prompts import Shot
from studio.providers import endpoints

CI = os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def _fast_and_private(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SCRATCH_DIR = tmp_path / "scratch"
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True  # simulators live on loopback and made-up hosts
    cache.clear()  # kept cards (studio/templatetags/slate.py) and counters start empty each test


def make_user(username: str):
    return get_user_model().objects.create_user(username=username, password="pw-" + username)


@pytest.fixture
def workspace(db):
    return Workspace.objects.create(name="Harbour Films", slug="harbour")


@pytest.fixture
def personas(workspace):
    """owner, editor and viewer of ``workspace``, and an outsider with a workspace of their own."""
    people = {}
    for role in (Role.OWNER, Role.EDITOR, Role.VIEWER):
        people[role.value] = make_user(role.value)
        Membership.objects.create(user=people[role.value], workspace=workspace, role=role)
    people["outsider"] = make_user("outsider")
    elsewhere = Workspace.objects.create(name="Elsewhere", slug="elsewhere")
    Membership.objects.create(user=people["outsider"], workspace=elsewhere, role=Role.OWNER)
    return people


@pytest.fixture
def priced(workspace):
    """An OpenAI endpoint with Sora 2 in the workspace, at $0.10 a second (nothing listens;
    queueing never calls it). The storyboard tests' own ``priced`` is a board on one."""
    return endpoints.add_endpoint(
        workspace,
        name="openai",
        kind="openai",
        base_url="https://api.example.com/v1",
        api_key="sk-test-key",
        models=["sora-2"],
    )


@pytest.fixture
def shot():
    return Shot(
        subject="lighthouse keeper",
        motion="climbs the spiral stairs",
        camera="slow push-in",
        lighting="golden hour",
        atmosphere="wind and distant waves",
        dialogue='"Almost there," he mutters.',
    )


@pytest.fixture
def client_for(client):
    """Django's test client, logged in as the persona given."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def rendered_take(workspace, shot):
    """A finished animatic take of ``shot``: a real MP4, poster and spritesheet."""
    take = takes.queue_take(workspace, shot, provider="animatic", size="1280x720", seconds=4)
    local.run_take(take.pk)
    take.refresh_from_db()
    assert take.status == Status.COMPLETED and take.poster
    return take


def chromium_or_skip() -> str:
    """The system Chromium: missing fails under CI=true and skips, loudly, elsewhere."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "Debian's chromium is not installed (make test installs it when it may)"
    if CI:
        pytest.fail(message)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


REPO = Path(__file__).resolve().parent.parent
