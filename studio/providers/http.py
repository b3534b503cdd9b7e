"""The HTTP transport every remote provider shares: rate limiting, retries, errors, downloads.

One configured httpx client, redirects never followed with credentials. Every
URL is checked before it is fetched (addresses.py): the base URL, the URLs a
provider names, each redirect. Every
attempt takes a slot of the shared rate limiter and gives it back when the
answer arrives. Idempotent calls (status, list, delete, content) are retried
on 408, 409, 429, 5xx and timeouts with jittered exponential backoff, honouring
`retry-after-ms` / `Retry-After`. A create is retried only when the provider
cannot have acted on it (connection refused, 429); any other failure after
sending, or a success we can't read, is `OutcomeUnknown`: the engine
reconciles instead of repeating it. Error bodies are read for a code and a
message, never echoed whole (they could be anything).
"""

import base64
import contextlib
import email.utils
import functools
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx

from . import addresses
from .base import (
    MODERATION_CODES,
    BadRequest,
    NotFound,
    OutcomeUnknown,
    ProviderError,
    RateLimited,
    Refused,
    Retryable,
    TooLarge,
)


@functools.cache
def http_client() -> httpx.Client:
    """One pooled HTTP client per process, shared by every provider call (thread-safe;
    tests swap in a transport to a simulator). Credentials go on each request.

    It connects only to addresses it checked itself (addresses.CheckedTransport), and
    ignores HTTP(S)_PROXY: a proxy would resolve names again, past the check."""
    return httpx.Client(
        transport=addresses.CheckedTransport(max_connections=50),
        follow_redirects=False,
        trust_env=False,
    )


def stream_client(private: bool) -> httpx.AsyncClient:
    """An asyncio client for one long answer read by the engine's watcher (fal's status
    stream), closed with it. It connects like the process's client
    (addresses.AsyncCheckedTransport); tests swap in a simulator."""
    return httpx.AsyncClient(
        transport=addresses.AsyncCheckedTransport(private=private),
        follow_redirects=False,
        trust_env=False,
    )


RETRYABLE_STATUS = {408, 409, 429}
MAX_REDIRECTS = 5
MAX_SERVER_DELAY = 120.0  # like the SDKs: a longer Retry-After is not waited for here
MODERATION_WORDS = ("moderation", "content_policy", "safety system", "policy violation")
QUOTA_CODES = ("insufficient_quota", "billing_hard_limit_reached")
IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, then Retry-After (seconds or date)."""
    wait = None
    if value := response.headers.get("retry-after-ms"):
        with contextlib.suppress(ValueError):
            wait = float(value) / 1000
    if wait is None and (value := response.headers.get("retry-after")):
        try:
            wait = float(value)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if value else None
            if when:
                wait = (when - datetime.now(UTC)).total_seconds()
    return None if wait is None else max(wait, 0.0)


SUMMARY_CHARS = 120


def summary(text, limit: int = SUMMARY_CHARS) -> str:
    """A provider's words fit to show a person: printable characters only, whitespace
    collapsed, cut short. An endpoint can answer anything; Slate never echoes it whole."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_parts(response: httpx.Response) -> tuple[str, str, str]:
    """The error's code, type and message from the shapes providers use: OpenAI's
    ``{"error": {...}}``, fal's ``{"detail": [{"type", "msg"}]}`` or ``{"detail": "..."}``,
    ComfyUI's ``{"error": {"type", "message"}}``."""
    try:
        body = response.json()
    except ValueError:
        return "", "", f"the provider answered HTTP {response.status_code} without a JSON error"
    if not isinstance(body, dict):
        return "", "", f"HTTP {response.status_code}"
    error = body.get("error")
    if isinstance(error, dict):
        return (
            summary(error.get("code") or error.get("type") or "", 64),
            summary(error.get("type") or "", 64),
            summary(error.get("message") or ""),
        )
    detail = body.get("detail")
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        return summary(first.get("type") or "", 64), "", summary(first.get("msg") or "")
    code = summary(body.get("error_type") or "", 64)
    return code, "", summary(detail or error or f"HTTP {response.status_code}")


def mime_of(data: bytes) -> str:
    return next((t for sig, t in IMAGE_TYPES.items() if data.startswith(sig)), "image/png")


def data_url(image: Path) -> str:
    """An image file as a data URL, as JSON requests carry frames (fal, OpenRouter)."""
    data = image.read_bytes()
    return f"data:{mime_of(data)};base64,{base64.b64encode(data).decode()}"


class HttpProvider:
    """Shared plumbing; subclasses speak their contract through ``_send``/``_download_from``."""

    retry_header = "x-should-retry"  # the provider's own word on whether to try again

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str],
        client: httpx.Client | None = None,
        acquire: Callable[..., str] = lambda waiting=None: "",
        release: Callable[[str], None] = lambda token: None,
        give_back: Callable[[str], None] = lambda token: None,
        waiting: Callable[[], None] = lambda: None,
        pause: Callable[[float], None] = lambda seconds: None,
        on_call: Callable[[], None] = lambda: None,
        before_send: Callable[[], None] = lambda: None,
        after_send: Callable[[], None] = lambda: None,
        max_retries: int = 3,
        retry_offset: int = 0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        private: bool = True,
    ):
        """``private``: whether this endpoint may reach private addresses and plain http
        (endpoints.client_for decides it from the install's policy; a client built by
        hand is trusted like the code that built it)."""
        self.auth = headers
        self.private = private
        # The client may be shared (one per process, pooled); nothing of ours is set on it:
        # credentials go on each request, and redirects are followed only without them.
        self.client = client or httpx.Client()
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self.base = base_url.rstrip("/")
        self.acquire, self.release, self.pause = acquire, release, pause
        self.give_back, self.waiting = give_back, waiting
        self.on_call, self.before_send, self.after_send = on_call, before_send, after_send
        self.max_retries, self.retry_offset, self.sleep = max_retries, retry_offset, sleep

    def _same_host(self, url: str) -> bool:
        """Whether ``url`` is on the provider's own host (our key may go there)."""
        ours, theirs = urlsplit(self.base), urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    def _download_from(self, url: str, sink: BinaryIO, limit: int | None = None):
        """A signed asset URL (a CDN, a redirect's target): fetched without our credentials,
        following redirects one checked hop at a time."""
        for _ in range(MAX_REDIRECTS + 1):
            request = self.client.build_request("GET", url, timeout=self.timeout)
            response = self._attempts(request, idempotent=True, stream=True)
            location = response.headers.get("location") if response.is_redirect else None
            if not location:
                yield from self._stream(response, sink, limit)
                return
            response.close()
            url = str(response.url.join(location))
        raise ProviderError("The provider's file URL redirects too many times.", "redirects")

    @staticmethod
    def _stream(response: httpx.Response, sink: BinaryIO, limit: int | None = None):
        """Copy the body to ``sink``; past ``limit`` bytes (announced or arrived), stop."""
        try:
            announced = response.headers.get("content-length", "")
            if limit is not None and announced.isdigit() and int(announced) > limit:
                raise TooLarge(limit)
            written = 0
            for chunk in response.iter_bytes(64 * 1024):
                written += len(chunk)
                if limit is not None and written > limit:
                    raise TooLarge(limit)
                sink.write(chunk)
                yield written
        except httpx.HTTPError as error:
            raise Retryable(f"The download broke off: {error}", "download_interrupted") from error
        finally:
            response.close()

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError as error:
            raise Retryable(
                "The provider answered with something that isn't JSON.", "bad_response"
            ) from error
        if not isinstance(body, dict):
            raise Retryable("The provider's answer isn't a JSON object.", "bad_response")
        return body

    def _build(self, method: str, path_or_url: str, **kwargs) -> httpx.Request:
        headers = {**self.auth, **(kwargs.pop("headers", None) or {})}
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        if not self._same_host(url):  # never send our key to a host the provider named
            headers = {k: v for k, v in headers.items() if k not in self.auth}
        return self.client.build_request(
            method, url, headers=headers, timeout=self.timeout, **kwargs
        )

    def _send(self, method: str, path: str, *, idempotent: bool = True, **kwargs):
        return self._attempts(self._build(method, path, **kwargs), idempotent=idempotent)

    def _attempts(
        self,
        request: httpx.Request,
        *,
        idempotent: bool,
        stream: bool = False,
    ):
        addresses.check_url(str(request.url), private=self.private)
        attempt = 0
        while True:
            failure, result = self._attempt(request, idempotent, stream, attempt)
            if failure is None:
                return result
            attempt += 1
            if attempt > self.max_retries:
                raise failure
            backoff = min(0.5 * 2 ** (attempt - 1), 8.0) * random.uniform(0.75, 1.0)
            self.sleep(max(result if result is not None else backoff, 0.0))

    def _attempt(self, request, idempotent: bool, stream: bool, attempt: int, send=None):
        """One try under the rate limiter: (None, response), or (error, delay before retrying).

        Only a request that was sent uses its slot and counts (``on_call``): one stopped
        before sending (the take is no longer ours) or that never reached the provider
        gives its slot back at once. ``send`` sends it some other way (an asyncio client's
        stream, its body read elsewhere); an error answer comes back read."""
        slot = self.acquire(self.waiting)
        try:
            self.before_send()  # last chance to find the take is no longer ours
        except BaseException:
            self.give_back(slot)
            raise
        # Like the SDK's retry-count header: the provider can tell retries apart.
        request.headers["x-slate-retry-count"] = str(self.retry_offset + attempt)
        sent = False
        try:
            if send is not None:
                response = send(request)
            else:
                with addresses.reaching(self.private):
                    response = self.client.send(request, stream=stream, follow_redirects=False)
            sent = True
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # Never reached the provider: safe to repeat, even a create.
            return Retryable(f"Can't reach the provider: {error}", "unreachable"), None
        except httpx.TransportError as error:
            sent = True
            if not idempotent:
                raise OutcomeUnknown(
                    f"The provider didn't answer in time ({type(error).__name__}); it may "
                    "or may not have started the job.",
                    "outcome_unknown",
                ) from error
            return Retryable(f"The provider didn't answer: {error}", "timeout"), None
        finally:
            self.after_send()
            if sent:
                self.release(slot)
                self.on_call()
            else:
                self.give_back(slot)
        if response.is_success or (stream and response.is_redirect):
            return None, response
        if stream:
            response.read()
        return self._failure(response, idempotent)

    def _refused(self, status: int, code: str, kind: str, message: str) -> bool:
        """Whether an error answer is the provider's moderation saying no."""
        return status in (400, 422) and (
            code in MODERATION_CODES
            or any(word in f"{code} {kind} {message}".lower() for word in MODERATION_WORDS)
        )

    def _failure(self, response: httpx.Response, idempotent: bool):
        """The error for a non-2xx answer, and the delay before trying again (None: backoff).
        Raises at once when trying again cannot help."""
        status = response.status_code
        code, kind, message = error_parts(response)
        wait = retry_after(response)
        should = response.headers.get(self.retry_header)
        if status == 429:
            if code in QUOTA_CODES or "quota" in message.lower():
                raise BadRequest(
                    f"The provider account is out of quota or credit: {message}",
                    code or "insufficient_quota",
                )
            self.pause(wait or 1.0)
            if wait is not None and wait > MAX_SERVER_DELAY:
                raise RateLimited(
                    "The provider's rate limit is in force.", "rate_limited", retry_after=wait
                )
            # A 429 means the request was not processed: a create may be repeated too.
            return RateLimited(message or "Rate limited", "rate_limited", retry_after=wait), wait
        if self._refused(status, code, kind, message):
            raise Refused(
                message or "The provider's moderation refused this prompt.",
                code or "moderation_blocked",
            )
        if status in (401, 403):
            raise ProviderError(
                f"The provider refused the credentials ({status}): {message}",
                code or f"http_{status}",
            )
        if status in (404, 410):
            raise NotFound(message or "The provider has no such job.", code or f"http_{status}")
        retry = status in RETRYABLE_STATUS or status >= 500
        if should in ("true", "false"):
            retry = should == "true"
        if not retry:
            raise BadRequest(
                message or f"The provider rejected the request ({status}).",
                code or f"http_{status}",
            )
        if not idempotent:
            raise OutcomeUnknown(
                f"The provider answered {status} after receiving the request; "
                "it may have started the job.",
                code or f"http_{status}",
            )
        failure = Retryable(message or f"The provider answered {status}.", code or f"http_{status}")
        return failure, (wait if wait is not None and wait <= MAX_SERVER_DELAY else None)
