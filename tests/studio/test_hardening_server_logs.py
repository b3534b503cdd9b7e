"""Every unhandled error is logged, with its traceback and the request id its 500 carries."""

import io
import json
import logging

import pytest
from django.test import AsyncClient, Client
from django.urls import include, path

from studio.logs import TextFormatter
from tests.support.processes import make_install


class Boom(Exception):
    pass


def boom(request):
    raise Boom("the view fell over")


urlpatterns = [path("boom/", boom), path("", include("studio.urls"))]

RAISE = """
from django.test import Client, override_settings
with override_settings(ROOT_URLCONF="tests.studio.test_hardening_server_logs"):
    response = Client(raise_request_exception=False).get("/boom/")
print(response.status_code, response["X-Request-ID"])
"""


@pytest.fixture
def logged(settings):
    """What the configured console handler writes, as the server's stderr would show it."""
    settings.ROOT_URLCONF = __name__
    (handler,) = [
        handler
        for handler in logging.getLogger("django.request").handlers
        if isinstance(handler.formatter, TextFormatter)
    ]
    out = io.StringIO()
    old = handler.setStream(out)
    yield out
    handler.setStream(old)


@pytest.mark.django_db
def test_a_500_is_logged_with_its_traceback_and_request_id(logged):
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    text = logged.getvalue()
    assert text.count("Internal Server Error") == 1
    assert f"[request {request_id}] Internal Server Error: /boom/" in text
    assert "Traceback (most recent call last)" in text
    assert "Boom: the view fell over" in text


@pytest.mark.django_db(transaction=True)
async def test_a_500_under_asgi_is_logged_too(logged):
    response = await AsyncClient(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert f"[request {response['X-Request-ID']}] Internal Server Error" in logged.getvalue()


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_and_a_strange_one_replaced(client):
    mine = "nginx-3f2a9c1e77"
    assert client.get("/login/", headers={"X-Request-ID": mine})["X-Request-ID"] == mine
    strange = client.get("/login/", headers={"X-Request-ID": "a b\x7f"})["X-Request-ID"]
    assert strange != "a b\x7f" and len(strange) == 32


def test_json_logs_are_one_object_per_line_with_the_request_id(tmp_path):
    install = make_install(tmp_path / "var", SLATE_LOG_FORMAT="json", ALLOWED_HOSTS="testserver")
    done = install.manage("shell", "-v0", "-c", RAISE)
    status, request_id = done.stdout.split()
    assert status == "500"
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("{")]
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "django.request"
    assert entry["message"] == "Internal Server Error: /boom/"
    assert entry["request_id"] == request_id and entry["status"] == 500
    assert entry["exception"].endswith("Boom: the view fell over")
