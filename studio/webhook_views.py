"""Provider webhooks: verify, remember the delivery, wake the take. Nothing slow here.

The only CSRF-exempt view: it is authenticated by the signature on the raw body
(Standard Webhooks for OpenAI, HMAC for OpenRouter, Ed25519 with fal's published
keys). It answers 2xx fast (providers retry anything else for hours) and only
enqueues. A delivery is applied once: its id is remembered durably.
"""

import json
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import secretbox
from .engine.follow import hint_from_webhook
from .engine.submit import wake_by_key
from .models import ProviderEndpoint, Take, WebhookDelivery
from .providers import falkeys
from .providers.openai import load_profile
from .providers.signatures import (
    WebhookInvalid,
    fal_message,
    verify,
    verify_fal,
    verify_openrouter,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    webhook_id: str  # the provider's id for this delivery: retries repeat it
    event_type: str
    remote_id: str


def _event(body: bytes) -> dict:
    """A signed body as the event it must be: a JSON object of sane depth."""
    try:
        event = json.loads(body)
    except RecursionError:
        raise WebhookInvalid("The body is nested too deeply to be an event") from None
    if not isinstance(event, dict):
        raise WebhookInvalid("The body is not a JSON object")
    return event


def _openai(endpoint: ProviderEndpoint, request: HttpRequest) -> Delivery:
    if not endpoint.webhook_secret_encrypted:
        raise WebhookInvalid("This endpoint has no webhook secret")
    secret = secretbox.unseal(endpoint.webhook_secret_encrypted)
    profile = load_profile(endpoint.profile or "openai", endpoint.profile_overrides)
    if profile.webhook == "openrouter":
        webhook_id = verify_openrouter(secret, request.headers, request.body)
    else:
        webhook_id = verify(secret, request.headers, request.body)
    event = _event(request.body)
    data = event.get("data") if isinstance(event.get("data"), dict) else event
    event_type = str(event.get("type") or event.get("event") or "")
    remote_id = str(data.get("id") or data.get("job_id") or "")
    if not (event_type and remote_id):
        raise WebhookInvalid("The event names no type or job")
    return Delivery(webhook_id, event_type, remote_id)


def _fal(endpoint: ProviderEndpoint, request: HttpRequest) -> Delivery:
    # Headers, formats and the timestamp first: a delivery that can't be fal's costs no
    # look at fal's key set.
    fal_message(request.headers, request.body)
    try:
        request_id = verify_fal(request.headers, request.body, falkeys.keys())
    except WebhookInvalid:
        # fal may have added a key since the set was cached: fetch it again (rate-limited).
        request_id = verify_fal(request.headers, request.body, falkeys.keys(refresh=True))
    event = _event(request.body)
    if str(event.get("request_id") or request_id) != request_id:
        raise WebhookInvalid("The body is about another request than the signature")
    return Delivery(request_id, f"fal.{event.get('status') or 'UNKNOWN'}", request_id)


VERIFIERS = {"openai": _openai, "fal": _fal}


@csrf_exempt
@require_POST
def provider_webhook(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    endpoint = ProviderEndpoint.objects.filter(kind=kind, webhook_token=token).first()
    if endpoint is None or kind not in VERIFIERS or not endpoint.has_webhooks:
        return HttpResponse("Unknown webhook endpoint", status=404)
    try:
        delivery = VERIFIERS[kind](endpoint, request)
    except secretbox.SecretUnreadable:
        # Our fault (SLATE_SECRETS_KEY changed), not the sender's: a 5xx makes them retry.
        log.error("The webhook secret of %s can't be unsealed; check SLATE_SECRETS_KEY", endpoint)
        return HttpResponse("Webhook secret unavailable", status=503)
    except (WebhookInvalid, ValueError, KeyError, TypeError, AttributeError) as error:
        log.warning("Rejected a webhook for %s: %s", endpoint, error)
        return HttpResponseBadRequest(f"Rejected: {error}")
    key = request.GET.get("key", "")[:64]
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                endpoint=endpoint,
                webhook_id=delivery.webhook_id,
                event_type=delivery.event_type,
                remote_id=delivery.remote_id,
                client_key=key,
            )
            take = Take.objects.filter(endpoint=endpoint, remote_id=delivery.remote_id).first()
            if take:
                hint_from_webhook(take, delivery.event_type)
            elif key:
                wake_by_key(endpoint, key)  # a create whose answer was lost
    except IntegrityError:
        return HttpResponse("Already received")  # a retry of a delivery we applied
    return HttpResponse("OK")
