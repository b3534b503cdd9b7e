"""Network hardening: who may reach private addresses, every hop checked, provider words
summarised, downloads capped, fal key fetches bounded, OpenRouter replays refused."""

import ipaddress
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from studio import ledger, takes, workspaces
from studio.engine.download import PLAUSIBLE_FLOOR, download_limit
from studio.models import ProviderEndpoint, Status, Take, WebhookDelivery
from studio.prompts import Shot
from studio.providers import addresses, endpoints, falkeys, http
from studio.providers.base import RemoteVideo, TooLarge
from studio.providers.openai import OpenAICompatible
from tests.conftest import REPO
from tests.fakes.fal_api import FalSimulator
from tests.fakes.openrouter_api import OpenRouterSimulator
from tests.fakes.videos_api import Faults, serve
from tests.support.engine import FAST, drive, simulator

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
PUBLIC = "93.184.215.14"  # a literal public address: never contacted (the tests' seams answer)


class Loopback:
    """A real HTTP service on 127.0.0.1 (what an attacker would point a provider at): it
    answers every request with ``status`` and ``body`` and keeps what it was asked."""

    def __init__(self, status=200, body=b"INTERNAL-SECRET: hunter2", content_type="text/plain"):
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append({"path": self.path, "host": self.headers.get("host")})
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback():
    services = []

    def start(**kwargs) -> Loopback:
        services.append(Loopback(**kwargs))
        return services[-1]

    yield start
    for service in services:
        service.close()


@pytest.fixture
def accounts(db):
    """The install's first account (owner of the Local studio) and a stranger who signed up
    after (owner of a studio of their own)."""
    users = get_user_model().objects
    first, stranger = users.create_user("first", password="pw"), users.create_user("stranger")
    return {
        "first": (first, workspaces.onboard(first)),
        "stranger": (stranger, workspaces.onboard(stranger)),
    }


def names(monkeypatch, table: dict[str, str]):
    """Answer DNS for ``table``'s names (literals stay literals): Slate's own resolver seam."""
    real = addresses.resolve

    def resolve(host, port):
        if host in table:
            return [ipaddress.ip_address(table[host])]
        return real(host, port)

    monkeypatch.setattr(addresses, "resolve", resolve)


# --- 4. private reach is the install's own, not every stranger's -----------------------------


def test_by_default_private_reach_is_the_local_studios_only():
    env = {k: v for k, v in os.environ.items() if k != "SLATE_ALLOW_PRIVATE_PROVIDERS"}
    env.update(DJANGO_SETTINGS_MODULE="studio.settings", SLATE_VAR_DIR=str(REPO / "var"))
    code = "from django.conf import settings; print(settings.SLATE_ALLOW_PRIVATE_PROVIDERS)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "local", out.stderr


def test_the_first_account_adds_a_gpu_on_loopback_and_a_stranger_cannot(accounts, settings):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = "local"
    _, local = accounts["first"]
    _, theirs = accounts["stranger"]
    assert local.is_default and not theirs.is_default
    gpu = {"name": "gpu", "kind": "comfyui", "base_url": "http://127.0.0.1:8188"}
    gpu["models"] = ["smoke"]
    endpoints.add_endpoint(local, **gpu)
    with pytest.raises(endpoints.EndpointInvalid, match="private network"):
        endpoints.add_endpoint(theirs, **gpu)
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True  # an install only its own team uses
    endpoints.add_endpoint(theirs, **gpu)


def test_a_stranger_cannot_make_check_connection_probe_the_servers_network(
    client, accounts, settings, loopback
):
    service = loopback()
    stranger, theirs = accounts["stranger"]
    client.force_login(stranger)
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = "local"
    form = {
        "name": "probe",
        "kind": "openai",
        "profile": "openai",
        "base_url": f"{service.url}/v1",
        "api_key": "sk-stranger-0123456789",
        "auth_style": "bearer",
        "models": "sora-2",
        "requests_per_minute": "25",
    }
    response = client.post(reverse("add_provider", args=[theirs.slug]), form)
    assert response.status_code == 400 and "private network" in response.content.decode()
    assert not ProviderEndpoint.objects.exists()
    # An endpoint saved while the install allowed it is refused at use, before any request.
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True
    endpoints.add_endpoint(theirs, name="probe", kind="openai", base_url=form["base_url"],
                           api_key=form["api_key"], models=["sora-2"])  # fmt: skip
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = "local"
    page = client.post(reverse("check_provider", args=[theirs.slug, "probe"])).content.decode()
    assert "private network" in page and "INTERNAL-SECRET" not in page
    assert service.requests == []  # nothing was sent there: no probe, no key


def test_what_an_endpoint_answers_is_shown_only_as_a_short_printable_summary(
    accounts, settings, loopback
):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = "local"
    _, local = accounts["first"]
    noisy = "INTERNAL-SECRET: " + "A" * 400 + "\x1b[31m\r\nset-cookie: x"
    plain = loopback(status=200)  # not JSON at all
    error = loopback(status=500, body=json.dumps({"error": {"message": noisy}}).encode())
    for name, service in (("plain", plain), ("error", error)):
        endpoints.add_endpoint(
            local, name=name, kind="openai", base_url=f"{service.url}/v1",
            api_key="sk-local-0123456789", models=["sora-2"],
        )  # fmt: skip
    said = endpoints.check_endpoint(ProviderEndpoint.objects.get(name="plain"))
    assert "isn't JSON" in said and "INTERNAL-SECRET" not in said
    said = endpoints.check_endpoint(ProviderEndpoint.objects.get(name="error"))
    assert "INTERNAL-SECRET: AAA" in said  # the start of what it said, and no more
    assert len(said) < 240 and "A" * 200 not in said
    assert "\x1b" not in said and "\n" not in said and "set-cookie" not in said
    assert len(http.summary("x" * 1000)) == http.SUMMARY_CHARS


# --- 5. the guard has no gaps: special ranges, every hop, the address connected to -----------


@pytest.mark.parametrize(
    "host",
    [
        "100.64.0.1",  # carrier-grade NAT
        "224.0.0.1",  # multicast
        "[ff02::1]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
        "0.0.0.0",
        "[::]",
        "198.18.0.1",  # benchmarking
        "240.0.0.1",  # reserved
        "192.0.0.170",
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "[::7f00:1]",  # IPv4-compatible 127.0.0.1
        "[fec0::1]",  # site-local
    ],
)
def test_special_ranges_are_refused_where_private_reach_is_off(host, settings):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = False
    with pytest.raises(endpoints.EndpointInvalid, match="private network"):
        endpoints.check_address(f"https://{host}/v1")


def test_public_providers_are_reached_over_https_only(settings):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = False
    endpoints.check_address(f"https://{PUBLIC}/v1")
    with pytest.raises(endpoints.EndpointInvalid, match="must start with https://"):
        endpoints.check_address(f"http://{PUBLIC}/v1")
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True
    endpoints.check_address(f"http://{PUBLIC}/v1")


def test_the_client_refuses_to_connect_to_a_name_that_answers_private(loopback):
    service = loopback()
    client = http.http_client.__wrapped__()  # the real client, not the process's cached one
    with pytest.raises(addresses.AddressRefused):
        client.get(f"http://localhost:{service.port}/")  # outside `reaching`: public only
    assert service.requests == []
    with addresses.reaching(True):
        assert client.get(f"http://localhost:{service.port}/").status_code == 200
    client.close()


def test_the_client_connects_to_the_very_address_it_checked(loopback, monkeypatch):
    """One resolution per connection, and the connection goes to that answer, with the
    name kept in the Host header: a name can't answer one address to the check and
    another to the connect."""
    service = loopback()
    answers = iter(["127.0.0.1", "10.9.9.9"])  # a rebinding resolver
    asked = []

    def resolve(host, port):
        asked.append(host)
        return [ipaddress.ip_address(next(answers))]

    monkeypatch.setattr(addresses, "resolve", resolve)
    monkeypatch.setattr(addresses, "is_public", lambda ip: str(ip) == "127.0.0.1")
    client = http.http_client.__wrapped__()
    assert client.get(f"http://cdn.example:{service.port}/v.mp4").status_code == 200
    assert asked == ["cdn.example"]
    assert service.requests == [{"path": "/v.mp4", "host": f"cdn.example:{service.port}"}]
    client.close()


def test_a_checked_socket_is_handed_over_blocking(loopback, monkeypatch):
    """ComfyUI's websocket gets a socket opened to a checked address; its connect timeout
    must not linger, or a quiet render would drop the live events after that long."""
    service = loopback()
    names(monkeypatch, {"gpu.example": "127.0.0.1", "lan.example": "10.0.0.7"})
    monkeypatch.setattr(addresses, "is_public", lambda ip: str(ip) == "127.0.0.1")
    sock = addresses.open_socket("gpu.example", service.port, private=False, timeout=5)
    assert sock.getpeername()[0] == "127.0.0.1" and sock.gettimeout() is None
    sock.close()
    with pytest.raises(addresses.AddressRefused):
        addresses.open_socket("lan.example", service.port, private=False, timeout=5)


class Hostile:
    """A provider (through the client seam) that names URLs of its choosing."""

    def __init__(self, monkeypatch, answers):
        self.seen: list[str] = []
        self.answers = answers

        def handle(request: httpx.Request) -> httpx.Response:
            self.seen.append(str(request.url))
            for prefix, response in self.answers.items():
                if str(request.url).startswith(prefix):
                    return response(request) if callable(response) else response
            return httpx.Response(404, json={"detail": "no such route"})

        transport = httpx.MockTransport(handle)
        monkeypatch.setattr(http, "http_client", lambda: httpx.Client(transport=transport))


@pytest.fixture
def fal_endpoint(accounts, settings, monkeypatch):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = "local"
    names(monkeypatch, {"queue.fal.example": PUBLIC, "cdn.example": PUBLIC,
                        "metadata.example": "169.254.169.254"})  # fmt: skip
    _, theirs = accounts["stranger"]
    return endpoints.add_endpoint(
        theirs, name="fal", kind="fal", base_url="https://queue.fal.example",
        api_key="fal-key-0123456789", models=["fal-ai/veo3.1"], requests_per_minute=10_000,
    )  # fmt: skip


@pytest.mark.parametrize(
    "named",
    [
        "http://169.254.169.254/latest/meta-data",  # cloud metadata, literal
        "https://metadata.example/latest",  # a name that answers a link-local address
        "https://[::ffff:10.0.0.1]/x",
    ],
)
def test_urls_a_provider_names_are_checked_before_they_are_fetched(
    fal_endpoint, monkeypatch, named
):
    status = "https://queue.fal.example/fal-ai/veo3.1/requests/r1/status"
    hostile = Hostile(
        monkeypatch,
        {
            status: httpx.Response(
                200, json={"status": "COMPLETED", "request_id": "r1", "response_url": named}
            )
        },  # fmt: skip
    )
    video = RemoteVideo(id="r1", status="in_progress", data={"model": "fal-ai/veo3.1"})
    found = endpoints.client_for(fal_endpoint, max_retries=0).retrieve(video)
    assert (found.status, found.error_code) == ("failed", "address_refused")
    assert hostile.seen == [status + "?logs=1"]  # the status, never the URL it named


def test_every_redirect_of_a_download_is_checked(fal_endpoint, monkeypatch, tmp_path):
    asset = "https://cdn.example/files/r1/output.mp4"
    hostile = Hostile(
        monkeypatch,
        {asset: httpx.Response(302, headers={"location": "http://127.0.0.1:8188/view?x=1"})},
    )
    video = RemoteVideo(id="r1", status="completed", asset_url=asset, data={"asset_url": asset})
    with (tmp_path / "v.mp4").open("wb") as sink, pytest.raises(addresses.AddressRefused):
        list(endpoints.client_for(fal_endpoint, max_retries=0).download(video, sink))
    assert hostile.seen == [asset]


# --- 6. a provider can't fill the disk ----------------------------------------------------------


def test_a_download_is_capped_by_what_the_model_could_make_and_by_the_install(settings):
    settings.SLATE_MAX_DOWNLOAD_BYTES = 2 * 1024 * MB
    assert download_limit(8, 1280, 720) == PLAUSIBLE_FLOOR  # a short clip: the floor
    assert download_limit(20, 3840, 2160) == 20 * 3840 * 2160  # 4K: far above any real file
    settings.SLATE_MAX_DOWNLOAD_BYTES = 10 * MB
    assert download_limit(8, 1280, 720) == 10 * MB  # the install's ceiling wins


def test_an_announced_oversize_is_refused_before_a_byte_is_read(tmp_path):
    pulled = []

    def body():
        while True:
            pulled.append(1)
            yield b"x" * 65536

    def handle(request):
        return httpx.Response(200, headers={"content-length": str(400 * MB)}, content=body())

    client = OpenAICompatible(
        base_url="https://gw.example/v1",
        api_key="sk-x",
        client=httpx.Client(transport=httpx.MockTransport(handle)),
    )
    with (tmp_path / "v.mp4").open("wb") as sink, pytest.raises(TooLarge):
        list(client.download("video_1", sink, limit=MB))
    assert (tmp_path / "v.mp4").stat().st_size == 0 and pulled == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", [{"asset_endless": True}, {"asset_bytes": 3 * MB}])
def test_a_provider_that_sends_too_much_fails_the_take_and_leaves_nothing(
    workspace, settings, fault
):
    """Over real HTTP on loopback: an endless stream is cut off at the cap, an announced
    oversize is refused up front; the partial file is gone and nothing is charged."""
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True
    settings.SLATE_MAX_DOWNLOAD_BYTES = MB
    sim = simulator(**fault)
    with serve(sim) as running:
        endpoint = endpoints.add_endpoint(
            workspace, name="sim", kind="openai", base_url=running.base_url,
            api_key=sim.api_key, models=["sora-2"], requests_per_minute=10_000,
            model_overrides={"sora-2": FAST},
        )  # fmt: skip
        take = takes.queue_take(
            workspace, Shot(subject="a paper boat"), provider=endpoint.name, model="sora-2",
            size="1280x720", seconds=4,
        )  # fmt: skip
        drive(sim)
    take = Take.objects.get(pk=take.pk)
    assert take.status == Status.FAILED, take.error_message
    assert take.error_message == (
        "The provider sent more than 1 MB for a 4 s 1280x720 video; Slate stopped the "
        "download. Nothing was charged."
    )
    assert take.error_code == "too_large" and not take.video
    assert [p for p in settings.SCRATCH_DIR.rglob("*") if p.is_file()] == []
    assert ledger.totals(take_id=take.pk)["charge"] == 0


# --- 10. forged fal deliveries can't make Slate hammer fal's key host ---------------------------


class KeyHost:
    """fal's key host, failing (through the client seam): counts what it is asked."""

    def __init__(self, monkeypatch, hold: threading.Event | None = None):
        self.fetches = 0
        self.entered = threading.Event()
        lock = threading.Lock()

        def handle(request):
            with lock:
                self.fetches += 1
            self.entered.set()
            if hold is not None:
                hold.wait(30)
            return httpx.Response(503, text="upstream down")

        transport = httpx.MockTransport(handle)
        monkeypatch.setattr(http, "http_client", lambda: httpx.Client(transport=transport))


@pytest.fixture
def fal_hooks(workspace, settings):
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True  # no DNS for the made-up names
    settings.SLATE_PUBLIC_URL = "https://studio.example"
    settings.SLATE_FAL_JWKS_URL = "https://keys.fal.example/.well-known/jwks.json"
    falkeys.forget()
    endpoint = endpoints.add_endpoint(
        workspace, name="fal", kind="fal", base_url="https://queue.fal.example",
        api_key="fal-key-0123456789", models=["fal-ai/veo3.1"], webhooks=True,
    )  # fmt: skip
    yield reverse("provider_webhook", args=["fal", endpoint.webhook_token])
    falkeys.forget()


def forged(request_id: str) -> tuple[bytes, dict]:
    """A delivery in fal's shape, signed by a key that isn't fal's."""
    body = json.dumps({"request_id": request_id, "status": "OK", "payload": {}}).encode()
    headers = FalSimulator(api_key="k").fal_headers(
        body, request_id, key=Ed25519PrivateKey.generate()
    )
    return body, {k: v for k, v in headers.items() if k != "content-type"}


def test_deliveries_without_fals_signature_are_refused_before_any_key_fetch(
    client, fal_hooks, monkeypatch
):
    host = KeyHost(monkeypatch)
    body, headers = forged("req-1")
    stale = {**headers, "x-fal-webhook-timestamp": "1000000000"}
    for sent in ({}, {k: v for k, v in headers.items() if "signature" not in k}, stale):
        response = client.post(fal_hooks, body, content_type="application/json", headers=sent)
        assert response.status_code == 400
    assert host.fetches == 0


def test_forged_deliveries_cost_one_key_fetch_while_fals_key_host_fails(
    client, fal_hooks, monkeypatch
):
    host = KeyHost(monkeypatch)
    for n in range(20):
        body, headers = forged(f"req-{n}")
        response = client.post(fal_hooks, body, content_type="application/json", headers=headers)
        assert response.status_code == 400
    assert host.fetches == 1  # not 40: the failure is remembered
    now = falkeys.clock()
    monkeypatch.setattr(falkeys, "clock", lambda: now + falkeys.NEGATIVE_SECONDS + 1)
    assert falkeys.keys() == [] and host.fetches == 2  # tried again once the window passed


def test_callers_that_arrive_during_a_key_fetch_wait_for_it(fal_hooks, monkeypatch):
    hold = threading.Event()
    host = KeyHost(monkeypatch, hold)
    callers = [threading.Thread(target=falkeys.keys, args=(True,)) for _ in range(20)]
    for caller in callers:
        caller.start()
    assert host.entered.wait(30)
    hold.set()
    for caller in callers:
        caller.join(30)
    assert host.fetches == 1


# --- 11. an OpenRouter callback replayed with a new unsigned key is a duplicate ---------------


@pytest.mark.django_db(transaction=True)
def test_a_replayed_openrouter_callback_with_a_new_key_is_a_duplicate(workspace, settings):
    secret = "or-webhook-secret-0123456789"
    settings.SLATE_ALLOW_PRIVATE_PROVIDERS = True  # no DNS for the made-up name
    settings.SLATE_PUBLIC_URL = "https://studio.example"
    endpoint = endpoints.add_endpoint(
        workspace, name="or", kind="openai", profile="openrouter",
        base_url="https://openrouter.example/api/v1", api_key="sk-or-0123456789",
        models=["google/veo-3.1"], webhook_secret=secret,
    )  # fmt: skip
    sim = OpenRouterSimulator(Faults(webhook_secret=secret))
    body = json.dumps({"type": "video.generation.completed", "data": {"id": "job-1"}}).encode()
    url = reverse("provider_webhook", args=["openai", endpoint.webhook_token])
    web = Client()

    def post(key: str, idempotency: str):
        headers = sim.signed_headers(body, idempotency)
        headers.pop("content-type")
        return web.post(f"{url}?key={key}", body, content_type="application/json", headers=headers)

    assert post("a" * 32, "job-1-completed").content == b"OK"
    replay = post("b" * 32, "anything-else")
    assert replay.status_code == 200 and replay.content == b"Already received"
    assert list(WebhookDelivery.objects.values_list("client_key", flat=True)) == ["a" * 32]
