"""A simulator of fal's queue API (docs/backends.md §1), built on the /v1/videos one.

Speaks: submit (``POST /{model id}``, the model's own JSON, ``?fal_webhook=``),
status (``GET /{owner}/{app}/requests/{id}/status``: 202 IN_QUEUE with a queue
position or IN_PROGRESS with logs, 200 COMPLETED, with ``error`` when the run
failed), its stream (``…/status/stream``: server-sent events, a ``data:`` line
with the same status object at once and on every change, closed after COMPLETED,
a comment line every ``stream_keepalive`` seconds; ``stream_refused`` answers
405 instead, ``stream_drops`` breaks each off after its first event), result
(``GET …/requests/{id}``: the output, or the model's own 422),
cancel (``PUT …/cancel``: 202, 400 ALREADY_COMPLETED, 404), public result
files on a "CDN" path, and webhooks signed with Ed25519 whose public keys it
publishes as a JWKS (with key rotation). Auth is ``Authorization: Key …``;
errors use fal's ``{"detail": …}`` shapes. Inputs are checked against what a
few real models accept (duration "8s" for Veo, "8" for Kling and Seedance,
integers for LTX-2), so a wrong wire format fails here as it would there.

The same words as the /v1/videos simulator drive outcomes: REFUSE and BLOCKME
(content_policy_violation), FAILME (a failed run), EXPIREME (the file is gone
when fetched), HANGME (the first submit is accepted, then not answered).
"""

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .videos_api import Faults, Video, VideosSimulator, render_clip

DEFAULT_KEY = "fal-key-simulator-0123:secret"
# What some real models accept (docs/backends.md §1.8); others accept anything sane.
MODELS = {
    "fal-ai/veo3.1": {
        "duration": ("4s", "6s", "8s"),
        "aspect_ratio": ("16:9", "9:16"),
        "resolution": ("720p", "1080p", "4k"),
    },
    "fal-ai/kling-video/v3/pro/text-to-video": {
        "duration": tuple(str(n) for n in range(3, 16)),
        "aspect_ratio": ("16:9", "9:16", "1:1"),
    },
    "bytedance/seedance-2.0/text-to-video": {
        "duration": ("auto", *(str(n) for n in range(4, 16))),
        "resolution": ("480p", "720p"),
    },
    "fal-ai/ltx-2/text-to-video": {
        "duration": (6, 8, 10),
        "resolution": ("1080p", "1440p", "2160p"),
    },
}
SIZES = {  # what a model renders, for the simulated file
    ("16:9", "720p"): "1280x720",
    ("9:16", "720p"): "720x1280",
    ("16:9", "1080p"): "1920x1080",
    ("9:16", "1080p"): "1080x1920",
}


@dataclass
class FalVideo(Video):
    model_path: str = ""
    webhook_url: str = ""
    cancelled: bool = False
    body: dict = field(default_factory=dict)


class FalSimulator(VideosSimulator):
    prefix = ""

    def __init__(self, faults: Faults | None = None, *, api_key: str = DEFAULT_KEY, **kwargs):
        super().__init__(faults, api_key=api_key, **kwargs)
        self.signing_key = Ed25519PrivateKey.generate()
        self.published = [self.signing_key]  # the keys the JWKS lists
        self.user_id = "user_sim_42"
        self.base = "http://fal.sim"  # replaced by the real address when served
        self.jwks_fetches = 0
        self.stream_keepalive = 15.0  # seconds between keep-alive comments on a stream
        self.stream_refused = False  # answer a status stream with 405
        self.stream_drops = False  # break each stream off after its first event (a proxy)
        self.streams_open = 0

    def routes(self) -> list:
        requests = "/{owner}/{app}/requests/{request_id}"
        return [
            Route("/.well-known/jwks.json", self.jwks, methods=["GET"]),
            Route("/files/{request_id}/output.mp4", self.file, methods=["GET"]),
            Route(f"{requests}/status", self.status, methods=["GET"]),
            Route(f"{requests}/status/stream", self.status_stream, methods=["GET"]),
            Route(f"{requests}/cancel", self.cancel, methods=["PUT"]),
            Route(requests, self.result, methods=["GET"]),
            Route("/{model:path}", self.submit, methods=["POST"]),
        ]

    def credential(self, request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Key ")

    @staticmethod
    def error(status, message, code=None, kind=None, headers=None) -> JSONResponse:
        if status in (401, 403):
            body = {"detail": "Unauthorized"}
        elif code:
            body = {"detail": [{"loc": ["body"], "msg": message, "type": code}]}
        else:
            body = {"detail": message, "error_type": kind or "internal_server_error"}
        return JSONResponse(body, status_code=status, headers=headers)

    # --- keys ----------------------------------------------------------------------------

    def rotate_key(self, publish: bool = True) -> None:
        """Sign with a new key from now on; ``publish`` adds it to the JWKS."""
        self.signing_key = Ed25519PrivateKey.generate()
        if publish:
            self.published.append(self.signing_key)

    async def jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        keys = []
        for private in self.published:
            raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            keys.append(
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
                    "kid": hashlib.sha256(raw).hexdigest()[:16],
                }
            )
        return JSONResponse({"keys": keys})

    # --- the queue --------------------------------------------------------------------

    def urls(self, video: FalVideo) -> dict:
        app = "/".join(video.model_path.split("/")[:2])
        base = f"{self.base}/{app}/requests/{video.id}"
        return {
            "status_url": f"{base}/status",
            "response_url": base,
            "cancel_url": f"{base}/cancel",
        }

    def queue_position(self, video: FalVideo) -> int:
        now = self.clock()
        waiting = sorted(
            (v for v in self.videos.values() if v.state(now)[0] == "queued"),
            key=lambda v: v.created,
        )
        return next((i for i, v in enumerate(waiting) if v.id == video.id), 0)

    async def submit(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        model = request.path_params["model"]
        try:
            body = await request.json()
        except ValueError:
            return self.log(request, key, self.error(422, "Invalid JSON", "json_invalid"))
        problem = self.invalid_input(model, body)
        if problem:
            return self.log(request, key, problem)
        prompt = str(body["prompt"])
        size = SIZES.get(
            (body.get("aspect_ratio", "16:9"), body.get("resolution", "720p")), "1280x720"
        )
        seconds = str(body.get("duration", "4")).removesuffix("s")
        video = self.new_video(key, model, prompt, size, seconds if seconds.isdigit() else "4")
        fal = FalVideo(**vars(video))
        fal.id = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
        fal.model_path, fal.body = model, body
        fal.webhook_url = request.query_params.get("fal_webhook", "")
        with self.lock:
            del self.videos[video.id]
            self.videos[fal.id] = fal
        first_hang = self.faults.hang_word in prompt and prompt not in self.hung_prompts
        if first_hang or (
            self.faults.create_hang and self.random.random() < self.faults.create_hang
        ):
            self.hung_prompts.add(prompt)
            self.hangs += 1
            self.log(request, key, Response(status_code=599))
            await asyncio.sleep(self.faults.hang_seconds)
        answer = {
            "request_id": fal.id,
            "gateway_request_id": fal.id,
            **self.urls(fal),
            "status": "IN_QUEUE",
            "queue_position": self.queue_position(fal),
        }
        return self.log(request, key, JSONResponse(answer))

    def invalid_input(self, model: str, body: dict) -> JSONResponse | None:
        if not isinstance(body, dict) or not str(body.get("prompt") or "").strip():
            return self.error(422, "Field required", "missing")
        for name, allowed in MODELS.get(model, {}).items():
            if name in body and body[name] not in allowed:
                shown = ", ".join(repr(a) for a in allowed)
                return self.error(
                    422, f"Input should be {shown}; got {body[name]!r}", "literal_error"
                )
        for name in ("image_url", "start_image_url", "end_image_url"):
            value = body.get(name)
            if value is not None and not str(value).startswith(("data:image/", "https://")):
                return self.error(422, f"{name} must be a URL or data URI", "image_load_error")
        return None

    def find(self, request: Request) -> FalVideo | None:
        video = self.videos.get(request.path_params["request_id"])
        app = f"{request.path_params['owner']}/{request.path_params['app']}"
        if video is None or not video.model_path.startswith(app):
            return None
        return video

    def outcome(self, video: FalVideo) -> tuple[str, dict]:
        """(status word, extra fields) of the request now."""
        status, _ = video.state(self.clock())
        if video.cancelled and status != "completed":
            return "COMPLETED", {
                "error": "Request was cancelled",
                "error_type": "request_cancelled",
            }
        if status in ("queued",):
            return "IN_QUEUE", {"queue_position": self.queue_position(video)}
        if status in ("in_progress", "rendering_weirdly"):
            return "IN_PROGRESS", {"logs": [{"message": "Generating video…", "level": "INFO"}]}
        if video.outcome == "failed" and status == "failed":
            return "COMPLETED", {
                "error": "Internal server error",
                "error_type": "internal_server_error",
            }
        return "COMPLETED", {}

    async def status(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        video = self.find(request)
        if video is None:
            return self.log(request, key, self.error(404, "Request not found", None, "not_found"))
        body = self.status_body(video, request.query_params.get("logs") == "1")
        code = 200 if body["status"] == "COMPLETED" else 202
        return self.log(request, key, JSONResponse(body, status_code=code))

    def status_body(self, video: FalVideo, logs: bool) -> dict:
        word, extra = self.outcome(video)
        body = {"status": word, "request_id": video.id, **self.urls(video), **extra}
        if not logs:
            body.pop("logs", None)
        return body

    async def status_stream(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        if self.stream_refused:
            return self.log(request, key, JSONResponse({"detail": "Method Not Allowed"}, 405))
        video = self.find(request)
        if video is None:
            return self.log(request, key, self.error(404, "Request not found", None, "not_found"))
        logs = request.query_params.get("logs") == "1"

        async def events():
            self.streams_open += 1
            try:
                sent, quiet = None, self.clock()
                while True:
                    body = self.status_body(video, logs)
                    if body != sent:
                        yield f"data: {json.dumps(body)}\n\n"
                        sent, quiet = body, self.clock()
                        if body["status"] == "COMPLETED" or self.stream_drops:
                            return  # fal closes the stream after COMPLETED
                    elif self.clock() - quiet >= self.stream_keepalive:
                        yield ": keep-alive\n\n"
                        quiet = self.clock()
                    await asyncio.sleep(0.01)
            finally:
                self.streams_open -= 1

        self.log(request, key, Response(status_code=200))
        return StreamingResponse(events(), media_type="text/event-stream")

    def refused(self, video: FalVideo) -> bool:
        return self.faults.refuse_word in video.prompt or self.faults.block_word in video.prompt

    async def result(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        video = self.find(request)
        if video is None:
            return self.log(request, key, self.error(404, "Request not found", None, "not_found"))
        word, extra = self.outcome(video)
        if word != "COMPLETED":
            return self.log(request, key, self.error(400, "Request is still in progress"))
        if self.refused(video):
            return self.log(
                request,
                key,
                self.error(
                    422,
                    "The content could not be processed because it contained material "
                    "flagged by a content checker.",
                    "content_policy_violation",
                ),
            )
        if extra.get("error"):
            return self.log(
                request, key, self.error(500, extra["error"], None, extra["error_type"])
            )
        output = {
            "video": {
                "url": f"{self.base}/files/{video.id}/output.mp4",
                "content_type": "video/mp4",
                "file_name": "output.mp4",
            },
            "seed": 42,
        }
        return self.log(request, key, JSONResponse(output))

    async def cancel(self, request: Request) -> Response:
        key, refused = await self.gate(request)
        if refused:
            return refused
        video = self.find(request)
        if video is None:
            return self.log(request, key, JSONResponse({"status": "NOT_FOUND"}, status_code=404))
        if self.outcome(video)[0] == "COMPLETED":
            return self.log(
                request, key, JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
            )
        video.cancelled = True
        return self.log(
            request, key, JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)
        )

    async def file(self, request: Request) -> Response:
        """The "CDN": public, no key; an expired file is a 404."""
        video = self.videos.get(request.path_params["request_id"])
        if video is None or self.faults.expire_word in video.prompt:
            return Response("Not Found", status_code=404)
        return Response(self.asset(video), media_type="video/mp4")

    def asset(self, video: Video) -> bytes:
        if self.faults.asset_bytes:
            return secrets.token_bytes(16) * (self.faults.asset_bytes // 16)
        return render_clip(self.faults.asset_size or "320x180", 1)

    # --- webhooks -----------------------------------------------------------------------

    def tick(self) -> None:
        """Call back each request's own fal_webhook once it ends, signed with Ed25519."""
        now = self.clock()
        with self.lock:
            for video in self.videos.values():
                if video.notified or not getattr(video, "webhook_url", ""):
                    continue
                word, extra = self.outcome(video)
                if word != "COMPLETED":
                    continue
                video.notified = True
                if self.random.random() < self.faults.webhook_drop:
                    continue
                failed = bool(extra.get("error")) or self.refused(video)
                body = json.dumps(
                    {
                        "request_id": video.id,
                        "gateway_request_id": video.id,
                        "status": "ERROR" if failed else "OK",
                        **({"error": "Invalid status code: 422"} if failed else {}),
                        "payload": None if failed else {"video": {"url": "…"}},
                    }
                ).encode()
                copies = 2 if self.random.random() < self.faults.webhook_duplicate else 1
                for _ in range(copies):
                    due = now + self.random.uniform(*self.faults.webhook_delay)
                    self.pending_webhooks.append((due, video.webhook_url, body, 0))
            due_now = [w for w in self.pending_webhooks if w[0] <= now]
            self.pending_webhooks = [w for w in self.pending_webhooks if w[0] > now]
        for _, url, body, tries in due_now:
            status = self.send_fal_webhook(url, body)
            if not 200 <= status < 300 and tries < 5:
                with self.lock:
                    self.pending_webhooks.append((now + 0.2 * 2**tries, url, body, tries + 1))

    def fal_headers(self, body: bytes, request_id: str, at: int | None = None, key=None) -> dict:
        timestamp = str(int(time.time() if at is None else at))
        digest = hashlib.sha256(body).hexdigest()
        message = f"{request_id}\n{self.user_id}\n{timestamp}\n{digest}".encode()
        signature = (key or self.signing_key).sign(message).hex()
        return {
            "content-type": "application/json",
            "x-fal-webhook-request-id": request_id,
            "x-fal-webhook-user-id": self.user_id,
            "x-fal-webhook-timestamp": timestamp,
            "x-fal-webhook-signature": signature,
        }

    def send_fal_webhook(self, url: str, body: bytes) -> int:
        request_id = json.loads(body)["request_id"]
        headers = self.fal_headers(body, request_id)
        self.webhooks_sent.append((self.clock(), json.loads(body)))
        try:
            return self.deliver(url, headers, body) if self.deliver else 0
        except Exception:
            return 0
