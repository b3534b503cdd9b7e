"""fal's published webhook keys (a JSON Web Key Set of Ed25519 keys), cached.

The set is fetched from SLATE_FAL_JWKS_URL and kept for at most
SLATE_FAL_JWKS_TTL seconds (fal says 24 h at most). A delivery no cached key
verifies may be signed by a key fal added since: the set is fetched again, but
no more than once a minute, so forged deliveries can't make Slate hammer fal.
"""

import base64
import logging
import threading
import time

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from . import http

log = logging.getLogger(__name__)
REFRESH_AT_MOST_EVERY = 60.0

_lock = threading.Lock()
_cache: dict = {"keys": [], "fetched": 0.0}


def _decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def parse(document: dict) -> list[Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS document (other key types are skipped)."""
    keys = []
    for entry in document.get("keys") or []:
        if entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519" and entry.get("x"):
            try:
                keys.append(Ed25519PublicKey.from_public_bytes(_decode(entry["x"])))
            except ValueError:
                log.warning("Skipped a malformed key in fal's key set")
    return keys


def _fetch() -> list[Ed25519PublicKey]:
    response = http.http_client().get(settings.SLATE_FAL_JWKS_URL, timeout=10.0)
    response.raise_for_status()
    return parse(response.json())


def keys(refresh: bool = False) -> list[Ed25519PublicKey]:
    """The cached key set; fetched when stale, or when ``refresh`` asks (rate-limited)."""
    with _lock:
        age = time.monotonic() - _cache["fetched"]
        stale = not _cache["keys"] or age > settings.SLATE_FAL_JWKS_TTL
        if stale or (refresh and age > REFRESH_AT_MOST_EVERY):
            try:
                _cache["keys"] = _fetch()
                _cache["fetched"] = time.monotonic()
            except (httpx.HTTPError, ValueError) as error:
                log.warning("Couldn't fetch fal's webhook keys: %s", error)
        return list(_cache["keys"])


def forget() -> None:
    """Drop the cache (tests; a changed URL)."""
    with _lock:
        _cache.update(keys=[], fetched=0.0)
