"""Webhooks: only a correctly signed, fresh, first delivery takes effect — once."""

import json
import time

import pytest
from django.urls import reverse

from studio.models import Status, Take, WebhookDelivery
from studio.prompts import Shot
from studio.providers import endpoints, signatures
from tests.fakes.videos_api import sign as simulator_sign
from tests.support.engine import KEY, SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(workspace):
    return endpoints.add_endpoint(
        workspace,
        name="gw",
        kind="openai",
        base_url="https://gw.example/v1",
        api_key=KEY,
        models=["sora-2"],
        webhook_secret=SECRET,
    )


@pytest.fixture
def rendering_take(workspace, endpoint):
    from studio import takes

    take = takes.queue_take(
        workspace, Shot(subject="kite"), provider="gw", model="sora-2", size="1280x720", seconds=4
    )
    Take.objects.filter(pk=take.pk).update(status=Status.IN_PROGRESS, remote_id="video_abc")
    return take


def delivery(
    remote_id="video_abc",
    event="video.completed",
    *,
    webhook_id="wh_1",
    at=None,
    secret=SECRET,
    body=None,
):
    body = (
        body
        or json.dumps(
            {
                "id": "evt_1",
                "object": "event",
                "created_at": 1,
                "type": event,
                "data": {"id": remote_id},
            }
        ).encode()
    )
    at = int(time.time()) if at is None else at
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(at),
        "webhook-signature": simulator_sign(secret, webhook_id, at, body),
    }
    return body, headers


def post(client, endpoint, body, headers):
    url = reverse("provider_webhook", args=["openai", endpoint.webhook_token])
    return client.post(url, data=body, content_type="application/json", headers=headers)


def test_a_valid_webhook_wakes_its_take_once(client, endpoint, rendering_take):
    body, headers = delivery()
    assert post(client, endpoint, body, headers).status_code == 200
    take = Take.objects.get(pk=rendering_take.pk)
    assert take.webhook_hint == "completed" and take.next_check_at is not None
    again = post(client, endpoint, body, headers)  # the provider retries the same delivery
    assert again.status_code == 200 and again.content == b"Already received"
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize(
    "tamper",
    [
        "mutated body",
        "wrong secret",
        "missing signature",
        "missing id",
        "missing timestamp",
        "330 s old",
        "330 s ahead",
        "garbage timestamp",
    ],
)
def test_bad_deliveries_are_rejected_and_change_nothing(client, endpoint, rendering_take, tamper):
    body, headers = delivery(
        secret="whsec_" + "d3JvbmctbG9uZy1zZWNyZXQtMTIzNDU2Nzg5MA=="
        if tamper == "wrong secret"
        else SECRET,
        at=int(time.time()) - 330
        if tamper == "330 s old"
        else int(time.time()) + 330
        if tamper == "330 s ahead"
        else None,
    )
    if tamper == "mutated body":
        body = body.replace(b"video_abc", b"video_xyz")
    for name, header in (
        ("missing signature", "webhook-signature"),
        ("missing id", "webhook-id"),
        ("missing timestamp", "webhook-timestamp"),
    ):
        if tamper == name:
            del headers[header]
    if tamper == "garbage timestamp":
        headers["webhook-timestamp"] = "yesterday"
    response = post(client, endpoint, body, headers)
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()
    assert Take.objects.get(pk=rendering_take.pk).webhook_hint == ""


def test_a_replay_days_later_is_ignored(client, endpoint, rendering_take):
    body, headers = delivery(at=int(time.time()) - 3 * 86400)
    assert post(client, endpoint, body, headers).status_code == 400  # too old to be genuine
    body, headers = delivery()
    post(client, endpoint, body, headers)
    Take.objects.filter(pk=rendering_take.pk).update(webhook_hint="")
    WebhookDelivery.objects.update(received_at="2026-01-01T00:00:00Z")
    assert post(client, endpoint, body, headers).content == b"Already received"
    assert Take.objects.get(pk=rendering_take.pk).webhook_hint == ""  # remembered durably


def test_an_unknown_endpoint_token_is_404(client, endpoint):
    body, headers = delivery()
    url = reverse("provider_webhook", args=["openai", "not-a-token"])
    assert (
        client.post(url, data=body, content_type="application/json", headers=headers).status_code
        == 404
    )


def test_the_webhook_view_is_the_only_csrf_exempt_one(client, endpoint, rendering_take):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body, headers = delivery()
    assert post(strict, endpoint, body, headers).status_code == 200
    assert strict.post("/w/harbour/generate/", {"subject": "x"}).status_code == 403


def test_a_secret_we_cannot_read_is_our_fault_and_asks_for_a_retry(
    client, endpoint, rendering_take, settings
):
    body, headers = delivery()
    settings.SLATE_SECRETS_KEY = "Zm9yZ290dGVuLWtleS1mb3Jnb3R0ZW4ta2V5LTEyMzQ="  # a new key
    response = post(client, endpoint, body, headers)
    assert response.status_code == 503  # the provider retries; its delivery was fine
    assert not WebhookDelivery.objects.exists()


def test_no_other_view_is_csrf_exempt():
    from django.urls import URLPattern, URLResolver, get_resolver

    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern.name, pattern.callback

    exempt = {
        name
        for name, view in views(get_resolver().url_patterns)
        if getattr(view, "csrf_exempt", False)
    }
    assert exempt == {"provider_webhook"}


def test_signature_rules():
    body = b'{"type":"video.completed"}'
    now = 1_800_000_000
    good = signatures.sign(SECRET, "wh_9", now, body)
    assert good == simulator_sign(SECRET, "wh_9", now, body)  # two implementations agree
    headers = {
        "webhook-id": "wh_9",
        "webhook-timestamp": str(now),
        "webhook-signature": f"v1,AAAA v1,bogus {good}",
    }
    assert signatures.verify(SECRET, headers, body, now=now) == "wh_9"  # any one of several
    bare = {**headers, "webhook-signature": good.removeprefix("v1,")}
    assert signatures.verify(SECRET, bare, body, now=now) == "wh_9"
    plain = signatures.sign("not-prefixed-secret", "wh_9", now, body)
    plain_headers = {**headers, "webhook-signature": plain}
    assert signatures.verify("not-prefixed-secret", plain_headers, body, now=now + 299)
    with pytest.raises(signatures.WebhookInvalid, match="too old"):
        signatures.verify(SECRET, headers, body, now=now + 301)
    with pytest.raises(signatures.WebhookInvalid, match="too new"):
        signatures.verify(SECRET, headers, body, now=now - 301)
    with pytest.raises(signatures.WebhookInvalid, match="No matching"):
        signatures.verify(SECRET, {**headers, "webhook-signature": "v2," + good[3:]}, body, now=now)


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, b"[1, 2]"],
    ids=["a list 100,000 deep", "an object 100,000 deep", "not an object"],
)
def test_a_validly_signed_body_of_the_wrong_shape_is_a_400_not_a_500(
    client, endpoint, rendering_take, body
):
    body, headers = delivery(body=body)
    response = post(client, endpoint, body, headers)
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()
