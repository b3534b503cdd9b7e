"""Standard Webhooks signatures (what OpenAI sends): verify the raw body, nothing else.

Signed content is ``{webhook-id}.{webhook-timestamp}.{raw body}``, HMAC-SHA256,
base64. The header may hold several space-separated signatures (``v1,<sig>``,
during secret rotation); any one matching is enough, compared in constant time.
Secrets prefixed ``whsec_`` are base64; others are used as their UTF-8 bytes.
Spec: github.com/standard-webhooks/standard-webhooks (docs/videos-api.md §5).
"""

import base64
import binascii
import hashlib
import hmac
import time

TOLERANCE = 300  # seconds, either way


class WebhookInvalid(Exception):
    pass


def secret_bytes(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error as error:
            raise WebhookInvalid("The webhook secret is not valid base64") from error
    return secret.encode()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers, body: bytes, now: float | None = None) -> str:
    """Check a delivery; returns its webhook-id, or raises WebhookInvalid saying why."""
    webhook_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (webhook_id and timestamp and signatures):
        raise WebhookInvalid("Missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent = int(timestamp)
    except ValueError as error:
        raise WebhookInvalid("Invalid webhook timestamp format") from error
    now = time.time() if now is None else now
    if sent < now - TOLERANCE:
        raise WebhookInvalid("Webhook timestamp is too old")
    if sent > now + TOLERANCE:
        raise WebhookInvalid("Webhook timestamp is too new")
    expected = sign(secret, webhook_id, sent, body).removeprefix("v1,").encode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if not value:  # a bare signature, as the SDK also accepts
            version, value = "v1", candidate
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return webhook_id
    raise WebhookInvalid("No matching signature")


# --- fal: Ed25519 over request id, user id, timestamp and the body's hash ------------------
# Headers X-Fal-Webhook-{Request-Id,User-Id,Timestamp,Signature} (hex); the message is
# "{request_id}\n{user_id}\n{timestamp}\n{sha256(body) hex}"; any key of fal's published
# set may have signed it (docs/backends.md §1.6).


def fal_message(headers, body: bytes) -> tuple[str, bytes, bytes]:
    """The delivery's request id, the signed message and the signature, or WebhookInvalid."""
    request_id = headers.get("x-fal-webhook-request-id", "")
    user_id = headers.get("x-fal-webhook-user-id", "")
    timestamp = headers.get("x-fal-webhook-timestamp", "")
    signature = headers.get("x-fal-webhook-signature", "")
    if not (request_id and user_id and timestamp and signature):
        raise WebhookInvalid("Missing an X-Fal-Webhook header")
    try:
        sent = int(timestamp)
        signed = bytes.fromhex(signature)
    except ValueError as error:
        raise WebhookInvalid("Invalid timestamp or signature format") from error
    if abs(time.time() - sent) > TOLERANCE:
        raise WebhookInvalid("Webhook timestamp is outside the tolerance")
    digest = hashlib.sha256(body).hexdigest()
    return request_id, f"{request_id}\n{user_id}\n{timestamp}\n{digest}".encode(), signed


def verify_fal(headers, body: bytes, keys) -> str:
    """Check a fal delivery against public ``keys``; returns its request id."""
    from cryptography.exceptions import InvalidSignature

    request_id, message, signature = fal_message(headers, body)
    for key in keys:
        try:
            key.verify(signature, message)
            return request_id
        except InvalidSignature:
            continue
    raise WebhookInvalid("No key of fal's set made this signature")


# --- OpenRouter: "X-OpenRouter-Signature: t=<ts>,v1=<hex HMAC-SHA256 of '<ts>,<body>'>" ----
# The separator and the hex encoding are UNCONFIRMED (docs/backends.md §6): one place to fix.


def sign_openrouter(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp},".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_openrouter(secret: str, headers, body: bytes) -> str:
    """Check an OpenRouter callback; returns its delivery id: a hash of the signed body.

    Neither the idempotency header nor the callback URL's ``?key=`` is signed, so
    neither may tell deliveries apart: a captured callback replayed with a new one is
    the same delivery. The same event re-sent (a new timestamp) is the same body too."""
    header = headers.get("x-openrouter-signature", "")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts or "v1" not in parts:
        raise WebhookInvalid("Missing or malformed X-OpenRouter-Signature")
    try:
        sent = int(parts["t"])
    except ValueError as error:
        raise WebhookInvalid("Invalid webhook timestamp format") from error
    if abs(time.time() - sent) > TOLERANCE:
        raise WebhookInvalid("Webhook timestamp is outside the tolerance")
    expected = sign_openrouter(secret, sent, body).split("v1=", 1)[1]
    if not hmac.compare_digest(parts["v1"].encode(), expected.encode()):
        raise WebhookInvalid("No matching signature")
    return "openrouter:" + hashlib.sha256(body).hexdigest()
