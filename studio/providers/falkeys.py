"""fal's published webhook keys (a JSON Web Key Set of Ed25519 keys), cached.

The set is fetched from SLATE_FAL_JWKS_URL and kept for at most
SLATE_FAL_JWKS_TTL seconds (fal says 24 h at most). A delivery no cached key
verifies may be signed by a key fal added since: the set is fetched again, but
no more than once a minute. Forged deliveries can't make Slate hammer fal or
tie up its workers: one fetch runs at a time (callers that arrive meanwhile
wait for its answer instead of asking again), and a fetch that failed (or
found no keys) is not tried again for NEGATIVE_SECONDS.
"""

import base64
import logging
import math
import threading
import time

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from . import addresses, http

log = logging.getLogger(__name__)
REFRESH_AT_MOST_EVERY = 60.0
NEGATIVE_SECONDS = 30.0
FETCH_TIMEOUT = 8.0
clock = time.monotonic  # tests move it

_lock = threading.Lock()
_cache: dict = {"keys": [], "fetched": -math.inf, "tried": -math.inf}


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
    # An install setting, not a provider's word: it may name a private host.
    with addresses.reaching(True):
        response = http.http_client().get(settings.SLATE_FAL_JWKS_URL, timeout=FETCH_TIMEOUT)
    response.raise_for_status()
    return parse(response.json())


def keys(refresh: bool = False) -> list[Ed25519PublicKey]:
    """The cached key set; fetched when stale, or when ``refresh`` asks (at most once a
    minute). Single-flight: the lock is held across the fetch, so concurrent callers
    wait for that one answer; after a failure, none asks again for NEGATIVE_SECONDS."""
    with _lock:
        now = clock()
        since_try = now - _cache["tried"]
        failed = _cache["tried"] > _cache["fetched"] or not _cache["keys"]
        stale = failed or now - _cache["fetched"] > settings.SLATE_FAL_JWKS_TTL
        if failed and since_try < NEGATIVE_SECONDS:
            return list(_cache["keys"])
        if stale or (refresh and since_try > REFRESH_AT_MOST_EVERY):
            _cache["tried"] = now
            try:
                found = _fetch()
            except (httpx.HTTPError, ValueError) as error:
                log.warning("Couldn't fetch fal's webhook keys: %s", error)
            else:
                if found:
                    _cache.update(keys=found, fetched=clock())
                else:
                    log.warning("fal's key set has no Ed25519 key")
        return list(_cache["keys"])


def forget() -> None:
    """Drop the cache (tests; a changed URL)."""
    with _lock:
        _cache.update(keys=[], fetched=-math.inf, tried=-math.inf)
